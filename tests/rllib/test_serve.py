"""The canary application on Ray Serve, on loopback: load, faults, bad input, rollback.

One Serve application serves every test of this module (starting Ray and Serve takes tens of
seconds on two cores); each test sends a bounded number of requests.
"""

import json
import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import ray
import ray.cloudpickle
import requests

from rl_best_practices import rllib
from rl_best_practices.deployment import Guard, assign_fraction
from rl_best_practices.envs import MarketEnv
from rl_best_practices.errors import InvalidValueError
from rl_best_practices.rllib import serve as serve_module
from rl_best_practices.safety import SafetyLayer, position_limit, reduce_position

PORT = 8765
POISON = 123.0  # the candidate crashes on this signal value: a model that fails on some inputs
# The replicas cannot import this test module: ship its policy factories by value.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


def production_factory():
    return lambda obs: 2 if obs[0] > 0.5 else (0 if obs[0] < -0.5 else 1)


def candidate_factory():
    def policy(obs):
        if obs[0] == POISON:
            raise RuntimeError("candidate crashed on this input")
        return 2 if obs[0] > 0.1 else (0 if obs[0] < -0.1 else 1)
    return policy


@pytest.fixture(scope="module")
def service():
    rllib.start_ray(num_cpus=2)
    svc = serve_module.serve_canary(
        production_factory, candidate_factory, versions={"production": 1, "candidate": 2},
        guards=[Guard("pnl", -0.5, "at_least", min_samples=5, relative=True)],
        obs_dim=5, safe_action=1, is_valid=MarketEnv().action_space.contains, ramp=(0.5,),
        stage_samples=10**6,
        safety=SafetyLayer(constraint_functions=[position_limit(100)],
                           fallback_policy=reduce_position(10)),
        trades=[-10.0, 0.0, 10.0], latency_budget_s=2.0, failure_threshold=3, cooldown_s=0.5,
        port=PORT, name="canary")
    yield svc
    from ray import serve

    serve.shutdown()
    rllib.stop_ray()


def post(url, payload, session=requests):
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return session.post(url, data=body, timeout=30)


def request_for(n, signal=0.3):
    return {"key": f"account-{n}", "obs": [signal, 0.0, 0.0, 0.0, 0.0],
            "state": {"position": 0.0}}


def send(url, payloads, concurrency):
    """Send every payload with `concurrency` client threads; (status, json, seconds) each."""
    def one(payload):
        with requests.Session() as session:
            start = time.perf_counter()
            reply = post(url, payload, session)
            return reply.status_code, reply.json(), time.perf_counter() - start
    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, payloads))


def test_answers_with_action_arm_and_model_version(service):
    reply = post(service.url, request_for(0))
    assert reply.status_code == 200
    body = reply.json()
    arm = "canary" if assign_fraction("account-0", "canary") < 0.5 else "control"
    assert body["arm"] == arm and body["action"] == (2 if arm == "canary" else 1)
    assert body["model_version"] == (2 if arm == "canary" else 1)
    assert body["source"] == ("candidate" if arm == "canary" else "production")


def test_load_every_request_answered_with_latency_reported(service):
    results = send(service.url, [request_for(n) for n in range(200)], concurrency=8)
    codes = [code for code, _, _ in results]
    seconds = np.array([s for _, _, s in results])
    p50, p99 = np.percentile(seconds, [50, 99])
    print(f"200 requests at concurrency 8: p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms")
    assert codes.count(200) == 200
    arms = {body["arm"] for _, body, _ in results}
    assert arms == {"canary", "control"}  # half the keys in each arm at fraction 0.5


def test_a_safety_layer_filters_the_served_action(service):
    near_limit = {**request_for(1, signal=3.0), "state": {"position": 95.0}}
    body = post(service.url, near_limit).json()
    assert body["action"] == 1  # a buy of 10 would break the limit of 100: the layer holds


def test_a_crashing_candidate_is_answered_by_production_without_failures(service):
    canary_keys = [n for n in range(400) if assign_fraction(f"account-{n}", "canary") < 0.5][:30]
    before = service.status()["chains"]["canary"]["failures"]["candidate"]
    poisoned = [request_for(n, signal=POISON) for n in canary_keys]
    results = send(service.url, poisoned, concurrency=4)
    assert [code for code, _, _ in results] == [200] * len(poisoned)
    assert {body["source"] for _, body, _ in results} == {"production"}
    assert service.status()["chains"]["canary"]["failures"]["candidate"] > before  # counted


def test_a_killed_candidate_replica_mid_traffic_loses_no_request(service):
    replicas = [a for a in ray.util.list_named_actors(all_namespaces=True)
                if "candidate" in a["name"] and "REPLICA" in a["name"]]
    assert replicas, "the candidate's replica is a named actor in the serve namespace"

    def kill_soon():
        time.sleep(0.3)
        for actor in replicas:
            ray.kill(ray.get_actor(actor["name"], namespace=actor["namespace"]), no_restart=False)

    before = service.status()["chains"]["canary"]["failures"]["candidate"]
    with ThreadPoolExecutor(1) as killer:
        killed = killer.submit(kill_soon)
        results = send(service.url, [request_for(n) for n in range(1000, 1300)], concurrency=4)
        killed.result()
    assert [code for code, _, _ in results] == [200] * 300
    rescued = sum(body["arm"] == "canary" and body["source"] == "production"
                  for _, body, _ in results)
    failures = service.status()["chains"]["canary"]["failures"]["candidate"] - before
    print(f"replica killed: {rescued} canary requests answered by production, "
          f"{failures} candidate failures counted")
    assert rescued >= 1 and failures >= 1  # the fault happened mid-traffic and was absorbed


@pytest.mark.parametrize(
    "payload, message",
    [("{not json", "must be JSON"),
     ({"obs": [0.0] * 5}, 'with "key" and "obs"'),
     ({"key": "a", "obs": [0.0] * 4, "state": {"position": 0.0}}, "obs must hold 5 numbers"),
     (json.dumps({"key": "a", "obs": [math.nan] * 5, "state": {"position": 0.0}}), "finite"),
     ({"key": "a", "obs": [0.0] * 5}, '"state" must be an object'),
     ({"key": "", "obs": [0.0] * 5, "state": {"position": 0.0}}, "key"),
     ({"key": "a", "obs": [0.0] * 5, "state": {"position": "x"}}, "finite number")],
)
def test_bad_input_gets_a_400_with_a_clear_message_and_serving_goes_on(service, payload, message):
    reply = post(service.url, payload)
    assert reply.status_code == 400 and message in reply.json()["error"]
    assert post(service.url, request_for(7)).status_code == 200


def test_bad_settings_are_refused_before_anything_is_deployed():
    with pytest.raises(InvalidValueError, match="versions must name"):
        serve_module.serve_canary(production_factory, candidate_factory, versions={"prod": 1},
                                  guards=[Guard("pnl", 0.0)], obs_dim=5, safe_action=1)
    with pytest.raises(InvalidValueError, match="ramp"):
        serve_module.serve_canary(production_factory, candidate_factory,
                                  versions={"production": 1, "candidate": 2},
                                  guards=[Guard("pnl", 0.0)], obs_dim=5, safe_action=1,
                                  ramp=(0.5, 0.2))


def test_rollback_under_traffic_sends_every_key_to_production(service):
    with ThreadPoolExecutor(1) as operator:
        def roll_back_soon():
            time.sleep(0.2)
            return service.rollback("latency alert on the candidate")
        state = operator.submit(roll_back_soon)
        during = send(service.url, [request_for(n) for n in range(2000, 2100)], concurrency=4)
        assert state.result() == "rolled_back"
    assert [code for code, _, _ in during] == [200] * 100
    after = send(service.url, [request_for(n) for n in range(3000, 3040)], concurrency=4)
    assert {body["arm"] for _, body, _ in after} == {"control"}
    assert service.status()["events"][-1]["reason"] == "manual: latency alert on the candidate"
