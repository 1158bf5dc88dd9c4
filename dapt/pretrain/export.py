"""Export: the trained model as a plain Hugging Face folder (LoRA adapters merged, ZeRO shards gathered, tied
weights saved once) with its model card."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from dapt.recipe import PretrainConfig


def export_model(acc, loss_fn, peft_model, tokenizer, model_dir: Path, summary: dict, cfg, dataset_dir: Path) -> None:
    """Save ``model_dir``. Collective: every rank calls it (ZeRO-3 gathers whole weights); the main one writes."""
    # ZeRO-3 holds a shard of each weight per rank: get_state_dict gathers whole weights (a collective).
    state = acc.get_state_dict(loss_fn)
    if not acc.is_main_process:
        return
    plain = acc.unwrap_model(loss_fn).model
    if peft_model is not None:  # adapters folded into the weights: a plain model, no peft needed to load it
        plain = peft_model.merge_and_unload()
        state = {f"model.{k}": v for k, v in plain.state_dict().items()}
    # A gathered ZeRO state dict carries tied weights (MLM decoder = input embeddings) as separate copies;
    # save them once, as a plain save_pretrained would.
    tied = set(getattr(plain, "all_tied_weights_keys", None) or {})
    weights = {k.removeprefix("model."): v for k, v in state.items()}
    # fp32 on disk: a DeepSpeed bf16 run holds bf16 weights; fine-tuning reads them back as fp32 masters anyway.
    weights = {k: v.float() if v.is_floating_point() else v for k, v in weights.items() if k not in tied}
    plain.save_pretrained(model_dir, state_dict=weights, safe_serialization=True)
    # save_pretrained writes the in-memory parameters' dtype into config.json (bf16 under DeepSpeed bf16), and a
    # default from_pretrained would then load the fp32 weights as bf16: the config says what is on disk.
    plain.config.dtype = torch.float32
    plain.config.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    (model_dir / "README.md").write_text(model_card(summary, cfg, dataset_dir))


def model_card(summary: dict, cfg: PretrainConfig, dataset_dir: Path) -> str:
    """A Hugging Face model card: what the model was trained from, on what (the corpus manifest hash), how much."""
    manifest = Path(dataset_dir).parent / "manifest.json"
    corpus_hash = json.loads(manifest.read_text())["manifest_hash"] if manifest.is_file() else "unknown"
    return "\n".join(
        [
            "---",
            "library_name: transformers",
            "tags: [dapt, fill-mask, domain-adaptive-pretraining]",
            "---",
            "",
            f"# {summary['description'] or 'continued-pretrained model'}",
            "",
            f"- base model: `{summary['base_model']}`",
            f"- corpus manifest hash: `{corpus_hash}` (`{dataset_dir}`)",
            f"- objective: {cfg.objective}, mask rate {cfg.mask_prob}, block size {cfg.block_size}",
            (
                f"- replay: {summary['replay_blocks_per_batch']} of {cfg.batch_size} blocks per batch from "
                f"`{summary['replay_corpus']}`"
                if summary.get("replay_blocks_per_batch")
                else "- replay: none"
            ),
            f"- tokens seen: {summary['tokens_seen']:,} (budget {summary['token_budget']:,}) in {summary['steps']} "
            f"steps, {summary['seconds'] / 60:.1f} min on {summary['device']}",
            f"- held-out domain perplexity: {summary['heldout_ppl_before']:.2f} before, "
            f"{summary['heldout_ppl_after']:.2f} after",
            (
                f"- held-out general perplexity: {summary['general_ppl_before']:.2f} before, "
                f"{summary['general_ppl_after']:.2f} after"
                if summary.get("general_ppl_before") is not None
                else "- held-out general perplexity: not measured"
            ),
            "",
            "Produced by dapt (`dapt pretrain`).",
            "",
        ]
    )
