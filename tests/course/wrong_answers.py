"""Plausible wrong answers to the exercises; each exercise's check must reject every one.

``WRONG_ANSWERS[lesson stem][exercise number]`` lists ``(what is wrong, code)`` pairs. The code
replaces the region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of the exercise's
solution cell (written from column 0; it takes the region's indentation). Each is a mistake a
learner would really make, and cheap to run: it goes wrong in the quick part of the answer (the
interpretation, the chosen value, the arithmetic), never in a training run.
"""

WRONG_ANSWERS: dict[str, dict[int, list[tuple[str, str]]]] = {
    "01_reward_engineering": {
        1: [
            ("a step potential: -2 whenever a position is held", """
def risk_potential(obs):
    return -2.0 if obs[1] != 0 else 0.0


def holding_bonus(position, gamma):
    phi = risk_potential(np.array([0.0, position, 0.0, 0.0, 0.0]))
    return potential_shaping(phi, phi, gamma, terminated=False)


POTENTIAL_CHANGES_OPTIMAL_POLICY = False
"""),
            ("the sign of the position kept: a short position is rewarded", """
def risk_potential(obs):
    return -5.0 * float(obs[1])


def holding_bonus(position, gamma):
    phi = risk_potential(np.array([0.0, position, 0.0, 0.0, 0.0]))
    return potential_shaping(phi, phi, gamma, terminated=False)


POTENTIAL_CHANGES_OPTIMAL_POLICY = False
"""),
            ("the shaping term reversed: phi(s) - gamma * phi(s')", """
def risk_potential(obs):
    return -5.0 * abs(float(obs[1]))


def holding_bonus(position, gamma):
    phi = risk_potential(np.array([0.0, position, 0.0, 0.0, 0.0]))
    return phi - gamma * phi


POTENTIAL_CHANGES_OPTIMAL_POLICY = False
"""),
            ("the prediction: a potential can change the optimal policy", """
def risk_potential(obs):
    return -5.0 * abs(float(obs[1]))


def holding_bonus(position, gamma):
    phi = risk_potential(np.array([0.0, position, 0.0, 0.0, 0.0]))
    return potential_shaping(phi, phi, gamma, terminated=False)


POTENTIAL_CHANGES_OPTIMAL_POLICY = True
"""),
        ],
        2: [
            ("not frozen: the statistics move while evaluating", """
shaper = RewardShaper.load(path)
return [shaper.compute_shaped_reward(r, {}, {}) for r in rewards]
"""),
            ("a fresh shaper instead of the saved statistics", """
shaper = RewardShaper()
shaper.freeze()
return [shaper.compute_shaped_reward(r, {}, {}) for r in rewards]
"""),
        ],
    },
    "02_safety_constraints": {
        1: [
            ("stays on the coarse grid: 0.15, without measuring 0.125", """
chosen_margin = min(m for m, (_, b) in already_measured.items() if b.mean() <= BREACH_TARGET)
cost = already_measured[chosen_margin][0] - already_measured[0.0][0]
chosen_cost = tuple(float(x[0]) for x in seed_interval(cost))
breaches = already_measured[0.0][1].mean() - already_measured[chosen_margin][1].mean()
avoided = breaches * CFG["episode_length"]
cost_per_breach_avoided = -chosen_cost[0] / avoided
"""),
            ("unpaired: each episode's P&L minus the mean P&L without a margin", """
sweep = {**already_measured, **margin_sweep([0.125], SEEDS)}
chosen_margin = min(m for m, (_, breaches) in sweep.items() if breaches.mean() <= BREACH_TARGET)
cost = sweep[chosen_margin][0] - sweep[0.0][0].mean()
chosen_cost = tuple(float(x[0]) for x in seed_interval(cost))
avoided = (sweep[0.0][1].mean() - sweep[chosen_margin][1].mean()) * CFG["episode_length"]
cost_per_breach_avoided = -chosen_cost[0] / avoided
"""),
            ("the cost per breach avoided per share of steps, not per step", """
sweep = {**already_measured, **margin_sweep([0.125], SEEDS)}
chosen_margin = min(m for m, (_, breaches) in sweep.items() if breaches.mean() <= BREACH_TARGET)
cost = sweep[chosen_margin][0] - sweep[0.0][0]
chosen_cost = tuple(float(x[0]) for x in seed_interval(cost))
avoided = sweep[0.0][1].mean() - sweep[chosen_margin][1].mean()
cost_per_breach_avoided = -chosen_cost[0] / avoided
"""),
        ],
        2: [
            ("a constant penalty: the number of interventions, not the units moved", """
moved = np.array([(t[:, :, 0] != t[:, :, 1]).sum(axis=1).mean()
                  for t in all_traces["behind its layer"]])
returns = np.array([run["return"].mean() for run in held_out["behind its layer"]])
penalised_by_weight = {w: returns - w * moved for w in WEIGHTS}
break_even_weights = returns / moved
"""),
            ("pooled over the seeds: one amount moved for all five", """
moved = np.mean([np.abs(t[:, :, 0] - t[:, :, 1]).sum(axis=1).mean()
                 for t in all_traces["behind its layer"]])
returns = np.array([run["return"].mean() for run in held_out["behind its layer"]])
penalised_by_weight = {w: returns - w * moved for w in WEIGHTS}
break_even_weights = returns / moved
"""),
            ("the penalty charged on the executed trade, not on the change", """
moved = np.array([np.abs(t[:, :, 1]).sum(axis=1).mean() for t in all_traces["behind its layer"]])
returns = np.array([run["return"].mean() for run in held_out["behind its layer"]])
penalised_by_weight = {w: returns - w * moved for w in WEIGHTS}
break_even_weights = returns / moved
"""),
        ],
    },
    "03_distribution_shift": {
        1: [
            ("h calibrated for the lesson's k = 0.1, whatever k is tried", """
h = calibrate_cusum(calibration, arl0=ARL0, mean=m["mean"], std=m["std"], k=0.1,
                    direction="down", block=BLOCK)
h_by_k[k] = h
delays = run_lengths(lambda: CusumDetector(m["mean"], m["std"], k=k, h=h, direction="down",
                                           block=BLOCK),
                     runs[seed]["reward"], start=SWITCH_STEP)
return float(np.median([STREAM_STEPS - SWITCH_STEP if d is None else d for d in delays]))
"""),
            ("the delay counted from the start of the stream, not from the switch", """
h = calibrate_cusum(calibration, arl0=ARL0, mean=m["mean"], std=m["std"], k=k,
                    direction="down", block=BLOCK)
h_by_k[k] = h
delays = run_lengths(lambda: CusumDetector(m["mean"], m["std"], k=k, h=h, direction="down",
                                           block=BLOCK),
                     runs[seed]["reward"])
return float(np.median([STREAM_STEPS if d is None else d for d in delays]))
"""),
            ("watching for a rise: direction 'up' while the reward falls", """
h = calibrate_cusum(calibration, arl0=ARL0, mean=m["mean"], std=m["std"], k=k,
                    direction="up", block=BLOCK)
h_by_k[k] = h
delays = run_lengths(lambda: CusumDetector(m["mean"], m["std"], k=k, h=h, direction="up",
                                           block=BLOCK),
                     runs[seed]["reward"], start=SWITCH_STEP)
return float(np.median([STREAM_STEPS - SWITCH_STEP if d is None else d for d in delays]))
"""),
        ],
        2: [
            ("the budget spread over observations, not over checks", """
return alarms_per_10k / 10_000
"""),
            ("checks per observation inverted", """
checks_per_10k = 10_000 / check_interval
return checks_per_10k / alarms_per_10k
"""),
            ("a hard-coded threshold", """
return 0.01
"""),
        ],
    },
    "04_experiment_tracking": {
        1: [
            ("only the name ignored", """
return config_hash({k: v for k, v in cfg.to_dict().items() if k != "experiment_name"})
"""),
            ("the record's hash, labels included", """
return cfg.config_hash
"""),
            ("a hash of the seed alone", """
return config_hash({"seed": cfg.seed})
"""),
        ],
        2: [
            ("the predicted ratio from 1/sqrt(n) alone", """
predicted_ratio = np.sqrt(5 / 10)
_, low5, high5 = seed_interval(per_seed[:5], confidence=0.95)
_, low_all, high_all = seed_interval(per_seed, confidence=0.95)
width_5, width_10 = float(high5[0] - low5[0]), float(high_all[0] - low_all[0])
measured_ratio = width_10 / width_5
halves = compare_seeds(per_seed[:5], per_seed[5:], confidence=0.95)
halves_differ = halves.low > 0 or halves.high < 0
expected_false_alarm_rate = 0.05
"""),
            ("the second half of the seeds as the 5-seed interval", """
predicted_ratio = stats.t.ppf(0.975, 9) / stats.t.ppf(0.975, 4) * np.sqrt(5 / 10)
_, low5, high5 = seed_interval(per_seed[5:], confidence=0.95)
_, low_all, high_all = seed_interval(per_seed, confidence=0.95)
width_5, width_10 = float(high5[0] - low5[0]), float(high_all[0] - low_all[0])
measured_ratio = width_10 / width_5
halves = compare_seeds(per_seed[:5], per_seed[5:], confidence=0.95)
halves_differ = halves.low > 0 or halves.high < 0
expected_false_alarm_rate = 0.05
"""),
            ("the interpretation: one config never differs from itself", """
predicted_ratio = stats.t.ppf(0.975, 9) / stats.t.ppf(0.975, 4) * np.sqrt(5 / 10)
_, low5, high5 = seed_interval(per_seed[:5], confidence=0.95)
_, low_all, high_all = seed_interval(per_seed, confidence=0.95)
width_5, width_10 = float(high5[0] - low5[0]), float(high_all[0] - low_all[0])
measured_ratio = width_10 / width_5
halves = compare_seeds(per_seed[:5], per_seed[5:], confidence=0.95)
halves_differ = halves.low > 0 or halves.high < 0
expected_false_alarm_rate = 0.0
"""),
        ],
    },
    "05_human_feedback": {
        1: [
            ("the last rating instead of the mean", """
latest = {row["trajectory_id"]: row["rating"] for row in collector.ratings()}
ids = list(latest)
count = 0
for n, a in enumerate(ids):
    for b in ids[n + 1:]:
        preferred = TIE if latest[a] == latest[b] else (a if latest[a] > latest[b] else b)
        collector.record_preference(a, b, preferred)
        count += 1
return count
"""),
            ("every pair in both orders", """
means = {}
for row in collector.ratings():
    means.setdefault(row["trajectory_id"], []).append(row["rating"])
means = {k: np.mean(v) for k, v in means.items()}
count = 0
for a in means:
    for b in means:
        if a != b:
            preferred = TIE if means[a] == means[b] else (a if means[a] > means[b] else b)
            collector.record_preference(a, b, preferred)
            count += 1
return count
"""),
        ],
        2: [
            ("a hard-coded agreement", """
return 0.6
"""),
            ("agreement measured on the training pairs and their noisy labels", """
pnl_model = BradleyTerryRewardModel().fit(fa[:, :1], fb[:, :1], y)
return pnl_model.agreement(fa[:, :1], fb[:, :1], y)
"""),
            ("all the features: no P&L-only model at all", """
model = BradleyTerryRewardModel().fit(fa, fb, y)
return model.agreement(test_a, test_b, annotator.true_label(test_a, test_b))
"""),
        ],
        3: [
            ("the estimated value instead of the effective sample size", """
out = []
for eps in epsilons:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EffectiveSampleSizeWarning)
        out.append(off_policy_value(data_dir, rule(eps), method="wis").value)
return out
"""),
            ("the effective sample size as a share of the days", """
out = []
for eps in epsilons:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EffectiveSampleSizeWarning)
        out.append(off_policy_value(data_dir, rule(eps), method="wis").ess / 200)
return out
"""),
            ("the curve read off section 4's figure, not computed", """
return list(np.interp(epsilons, [0.0, 0.1, 0.3, 0.5], [0.0, 4.1, 33.1, 200.0]))
"""),
            ("the logging policy judged at every epsilon", """
out = []
for eps in epsilons:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EffectiveSampleSizeWarning)
        out.append(off_policy_value(data_dir, rule(BEHAVIOUR_EPSILON), method="wis").ess)
return out
"""),
        ],
    },
    "06_production_checklist": {
        1: [
            ("the stage's 40 days as the budget", """
return 40
"""),
            ("a fixed-sample z-test size, ignoring that the canary looks every day", """
return int(np.ceil(2 * (1.645 + 0.842) ** 2 * sd**2 / margin**2))
"""),
            ("no control arm: an absolute guard's sample size", """
return noninferiority_samples(margin, 0.0, sd, control_per_canary=None, design_samples=40)
"""),
        ],
        2: [
            ("the agreement rate as the gate", """
return agreement(candidate, days) >= 0.9
"""),
            ("production judged against the candidate: arguments swapped", """
served, replayed = counterfactual_returns(make_day, production, candidate, days)
return non_inferiority(served, replayed, margin=MARGIN).shown
"""),
            ("the mean difference alone, without its interval", """
served, replayed = counterfactual_returns(make_day, production, candidate, days)
return bool((replayed - served).mean() > -MARGIN)
"""),
        ],
    },
    "06b_serving_with_ray_serve": {
        1: [
            ("one client whatever the concurrency", """
results = send([request_for(k) for k in range(5000, 5000 + n)], 1)
return float(np.percentile([s for *_, s in results], 50))
"""),
            ("the batch's wall time per request (throughput), not latency", """
start = time.perf_counter()
send([request_for(k) for k in range(5000, 5000 + n)], concurrency)
return (time.perf_counter() - start) / n
"""),
        ],
        2: [
            ("the HTTP reason phrase instead of the error message", """
answers = []
for body in bodies:
    reply = requests.post(service.url, data=body, timeout=30)
    answers.append((reply.status_code, None if reply.ok else reply.reason))
return answers
"""),
            ("the whole reply body as the message", """
answers = []
for body in bodies:
    reply = requests.post(service.url, data=body, timeout=30)
    answers.append((reply.status_code, reply.text))
return answers
"""),
        ],
    },
}
