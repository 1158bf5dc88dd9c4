"""What a variant's model cost to make: continued-pretraining tokens, time, FLOPs, and how general-domain
perplexity moved (cumulative along its chain: DAPT+TAPT includes the DAPT it started from)."""

from __future__ import annotations


def variant_cost(results: dict, task: str, variant: str) -> dict | None:
    """Pretraining cost behind a variant's model on a task: its own job, plus DAPT's for DAPT+TAPT (cumulative).

    Returns:
        ``{"tokens", "seconds", "flops", "device", "general_ppl_change"}``, or None for the baseline.
    """
    jobs = results.get("pretrain_jobs") or {}
    chain = {
        "dapt": ["dapt"],
        "dapt-replay": ["dapt-replay"],
        "general": ["general"],
        "tapt": [f"tapt/{task}"],
        "dapt+tapt": ["dapt", f"dapt+tapt/{task}"],
        "knn-tapt": [f"knn-tapt/{task}"],
        "scratch": ["scratch"],
    }.get(variant)
    if not chain or not all((jobs.get(k) or {}).get("summary") for k in chain):
        return None
    sums = [jobs[k]["summary"] for k in chain]
    change = None
    if sums[-1].get("general_ppl_after") and sums[0].get("general_ppl_before"):
        change = sums[-1]["general_ppl_after"] / sums[0]["general_ppl_before"] - 1
    base_ppl = sums[0].get("general_ppl_before")
    return {
        "base_general_ppl": base_ppl,
        "tokens": sum(x["tokens_seen"] for x in sums),
        "seconds": sum(x["seconds"] for x in sums),
        "flops": sum(x["total_flops"] for x in sums),
        "device": sums[-1]["device"],
        "general_ppl_change": change,
    }


def hours(cost: dict) -> str:
    kind = "CPU" if cost["device"].startswith("cpu") else "GPU"
    return f"{cost['seconds'] / 3600:.2f} {kind}-hours ({cost['device']})"
