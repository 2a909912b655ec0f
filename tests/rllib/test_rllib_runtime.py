"""What reaches ray.init: a private local instance, or the cluster named by RAY_ADDRESS.

Joining a real cluster needs one (a head on another machine); this machine cannot host a second
Ray process that joins its own head, so the end-to-end check runs on a cluster, and here we
check what start_ray asks Ray for.
"""

import pytest
import torch

from rl_best_practices.rllib import runtime


@pytest.fixture
def fake_ray(monkeypatch):
    calls = []
    monkeypatch.setattr(runtime.ray, "is_initialized", lambda: False)
    monkeypatch.setattr(runtime.ray, "init", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr(runtime.ray, "cluster_resources", lambda: {"CPU": 64.0})
    return calls


def test_ray_address_joins_that_cluster_and_ignores_num_cpus(fake_ray, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    info = runtime.start_ray(num_cpus=2)
    assert [call["address"] for call in fake_ray] == ["ray://head:10001"]
    assert "num_cpus" not in fake_ray[0] and fake_ray[0]["log_to_driver"] is False
    assert info == {"mode": "cluster", "num_cpus": 64}


def test_without_ray_address_a_private_local_instance_on_loopback(fake_ray, monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    runtime.start_ray(num_cpus=2)
    (call,) = fake_ray
    assert call["address"] == "local" and call["num_cpus"] == 2
    assert call["include_dashboard"] is False and call["_node_ip_address"] == "127.0.0.1"


def test_the_driver_uses_one_torch_thread_unless_told_otherwise(fake_ray, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        runtime.start_ray(num_cpus=2)
        assert torch.get_num_threads() == runtime.DRIVER_TORCH_THREADS == 1
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        runtime.start_ray(num_cpus=2)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
