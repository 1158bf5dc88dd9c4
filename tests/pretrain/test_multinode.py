"""Multi-node pretraining for real: two hosts made on this machine with network namespaces joined by a veth pair,
one dapt worker per host under ``torchrun --nnodes 2`` over gloo on that link, DeepSpeed ZeRO-2. It must end at the
weights of the same run on one host with 2 processes (the data a rank sees is a function of the step and rank alone,
and a 2-rank gloo all-reduce sums the same numbers over TCP as over loopback).

Needs root and iproute2 (``ip netns``); skipped with the reason where namespaces cannot be made. Marked
``distributed``."""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from dapt.pretrain import run_pretrain
from tests.pretrain.test_distributed import _cfg, corpus  # noqa: F401 - the shared corpus fixture

pytestmark = pytest.mark.distributed

SUBNET = "10.77.{}.{}"


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)


@pytest.fixture
def two_hosts():
    """Namespaces ``a`` and ``b`` with 10.77.x.1 and 10.77.x.2 on a veth pair; removed afterwards."""
    if shutil.which("ip") is None:
        pytest.skip("iproute2 (`ip`) is not installed: apt-get install -y iproute2")
    tag = uuid.uuid4().hex[:6]
    hosts = {"a": f"dapt-a-{tag}", "b": f"dapt-b-{tag}"}
    net = int(tag, 16) % 250 + 1
    made = _ip("netns", "add", hosts["a"])
    if made.returncode != 0:
        pytest.skip(f"cannot make network namespaces here ({made.stderr.strip()}): needs root")
    try:
        steps = [
            ("netns", "add", hosts["b"]),
            ("link", "add", f"va-{tag}", "type", "veth", "peer", "name", f"vb-{tag}"),
            ("link", "set", f"va-{tag}", "netns", hosts["a"]),
            ("link", "set", f"vb-{tag}", "netns", hosts["b"]),
        ]
        for host, dev, last in (("a", f"va-{tag}", 1), ("b", f"vb-{tag}", 2)):
            ns = hosts[host]
            steps += [
                ("-n", ns, "addr", "add", f"{SUBNET.format(net, last)}/24", "dev", dev),
                ("-n", ns, "link", "set", dev, "up"),
                ("-n", ns, "link", "set", "lo", "up"),
            ]
        for step in steps:
            r = _ip(*step)
            if r.returncode != 0:
                pytest.skip(f"`ip {' '.join(step)}` failed: {r.stderr.strip()}")
        yield {
            "a": (hosts["a"], f"va-{tag}", SUBNET.format(net, 1)),
            "b": (hosts["b"], f"vb-{tag}", SUBNET.format(net, 2)),
        }
    finally:
        for ns in hosts.values():
            _ip("netns", "del", ns)


def test_two_hosts_over_veth_end_at_the_single_host_weights(tmp_path, corpus, tiny_mlm_dir, two_hosts):  # noqa: F811
    cfg = _cfg(zero_stage=2, checkpoint_every_steps=None)
    one_host = run_pretrain(cfg, tiny_mlm_dir, corpus, tmp_path / "one-host", progress=False)

    out = tmp_path / "two-hosts"
    out.mkdir()
    spec = out / "launch.json"
    # What run_pretrain writes for its own workers (README, "Several machines"), here by hand.
    spec.write_text(
        json.dumps(
            {
                "cfg": cfg.model_dump(mode="json"),
                "base_model_dir": str(tiny_mlm_dir),
                "dataset_dir": str(corpus),
                "out_dir": str(out),
                "trust_remote_code": False,
                "general_dir": None,
                "heldout_dir": None,
                "description": "two-host test",
                "replay_dir": None,
            }
        )
    )
    master = two_hosts["a"][2]
    port = "29517"
    t0 = time.perf_counter()
    procs = []
    for rank, host in enumerate(("a", "b")):
        ns, dev, _ = two_hosts[host]
        env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",  # two hosts share these cores
            "GLOO_SOCKET_IFNAME": dev,  # gloo's traffic goes over the veth link, not loopback
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        cmd = [
            "ip", "netns", "exec", ns, sys.executable, "-m", "torch.distributed.run", "--nnodes=2",
            "--nproc_per_node=1", f"--node_rank={rank}", f"--master_addr={master}", f"--master_port={port}",
            "-m", "dapt.pretrain.worker", str(spec),
        ]  # fmt: skip
        log = open(tmp_path / f"host-{host}.log", "w")  # noqa: SIM115 - closed below
        procs.append((subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    for p, log in procs:
        p.wait(timeout=900)
        log.close()
    wall = time.perf_counter() - t0
    logs = {h: (tmp_path / f"host-{h}.log").read_text()[-3000:] for h in ("a", "b")}
    assert all(p.returncode == 0 for p, _ in procs), logs
    print(f"two-host ZeRO-2 pretraining over veth: {wall:.1f} s wall")

    summary = json.loads((out / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["engine"] == "deepspeed zero-2"
    a = load_file(one_host.model_dir / "model.safetensors")
    b = load_file(out / "model" / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6, rtol=0), k
    assert summary["final_loss"] == pytest.approx(one_host.summary["final_loss"], abs=1e-6)
