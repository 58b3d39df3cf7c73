"""The five-account example of the loss-policy comparison, as outcome models and as the files a
run writes (accounts.csv, events.jsonl, metrics.csv), for tests/simulation/test_fairness.py and
test_compare.py.

Equities e = (10, 5, 1, -3, -12), protected cash c = (2, 1, 0.5, 0, 0): winners' profit
w = e - c = (8, 4, 0.5); deficit 15 (shortfalls 3 and 12), the insurance vault pays 7.5 and
theta = 1/2 of the deficit (7.5) is taken from the winners:
- queue (ranking 2, 1, 3): takes 4 from account 2 and 3.5 from account 1 (post equities 6.5, 1, 1),
  written as ADL fills (Deleveraged events) against an oracle price of 100;
- pro rata to profit: h = 0.6 of each winner's profit, 4.8, 2.4, 0.3 (post 5.2, 2.6, 0.7), written
  as haircuts in accounts.csv.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from simulation.fairness import AccountOutcome, BlockPoint, Resolution, RunOutcome

DEC = 10**6
WAD = 10**18
ACCOUNTS = ("0xA1", "0xA2", "0xA3", "0xA4", "0xA5")
KINDS = ("noise_trader", "noise_trader", "noise_trader", "momentum_trader", "momentum_trader")
EQUITY = (10.0, 5.0, 1.0, -3.0, -12.0)
CASH = (2.0, 1.0, 0.5, 0.0, 0.0)
QUEUE_TAKEN = (3.5, 4.0, 0.0, 0.0, 0.0)
PRO_RATA_TAKEN = (4.8, 2.4, 0.3, 0.0, 0.0)
# two Bankruptcy events: 0xA4 at block 5 (3, all paid by the vault), 0xA5 at block 7 (12: 4.5 by the
# vault, 7.5 by the policy)
RESOLUTIONS = (Resolution(5, "0xA4", 3.0, 3.0, 0.0, 0.0), Resolution(7, "0xA5", 12.0, 4.5, 7.5, 0.0))
# blocks 0..9: accounts at negative equity in blocks 4..7; share price 1 before the first bankruptcy,
# 0.8 after it, 0.5 after the second, 0.6 at the end; vault assets 100 before, 60 at the end
PENDING = (0, 0, 0, 0, 3.0, 12.0, 12.0, 12.0, 0, 0)
SHARE = (1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.8, 0.5, 0.5, 0.6)
PRICE = (120.0, 119.0, 118.0, 110.0, 104.0, 102.0, 101.0, 100.0, 100.0, 101.0)
ASSETS = (100.0, 100.0, 100.0, 100.0, 100.0, 97.0, 97.0, 92.5, 70.0, 60.0)
OI = (0.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 2.0, 2.0)


def outcome(policy: str, taken, seed: int = 1, oi_closed: float = 0.0, stakers_left: int = 2) -> RunOutcome:
    """The example as a RunOutcome; account 0xA3 is marked as a trader that left."""
    accounts = tuple(AccountOutcome(a, k, e - c, t, left=(a == "0xA3"))
                     for a, k, e, c, t in zip(ACCOUNTS, KINDS, EQUITY, CASH, taken))
    timeline = tuple(BlockPoint(b, PRICE[b], PENDING[b], SHARE[b], OI[b], ASSETS[b]) for b in range(len(PENDING)))
    return RunOutcome(policy, seed, accounts, RESOLUTIONS, timeline, oi_closed, stakers_left)


def write_run(run_dir: Path, policy: str) -> Path:
    """The files a run of the example writes: `policy` "adl" writes the queue as Deleveraged fills,
    anything else the pro-rata haircuts."""
    run_dir.mkdir(parents=True, exist_ok=True)
    adl = policy == "adl"
    taken = QUEUE_TAKEN if adl else PRO_RATA_TAKEN
    with open(run_dir / "accounts.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["account", "kind", "deposited", "withdrawn", "equity", "profit", "haircut"])
        for a, k, e, c, t in zip(ACCOUNTS, KINDS, EQUITY, CASH, taken):
            if e < 0:  # a bankrupt account ends at zero equity, having lost its deposit
                w.writerow([a, k, -e, 0.0, 0.0, e, 0.0])
            elif a == "0xA3":  # withdrew everything: a trader that left
                post = e - t
                w.writerow([a, k, c, post, 0.0, post - c, 0.0 if adl else t])
            else:
                post = e - t
                w.writerow([a, k, c, 0.0, post, post - c, 0.0 if adl else t])
    events = [{"block": r.block, "event": "Bankruptcy", "account": r.account, "deficit": int(r.deficit * DEC),
               "insurance_paid": int(r.insurance_paid * DEC), "socialized": int(r.socialized * DEC),
               "bad_debt": int(r.bad_debt * DEC)} for r in RESOLUTIONS]
    events += [{"block": 3, "event": "RedeemRequest", "owner": "0xS0", "agent": "staker0"},
               {"block": 5, "event": "RedeemRequest", "owner": "0xS1", "agent": "staker1"},
               {"block": 8, "event": "RedeemRequest", "owner": "0xS2", "agent": "staker2"},
               {"block": 8, "event": "RedeemRequest", "owner": "0xS2", "agent": "staker2"},
               {"block": 6, "event": "RedeemRequest", "owner": "0xAT", "agent": "attacker"}]
    if adl:  # the bankrupt long closed against the shorts at 103.5 and 102 while the oracle says 100
        events += [{"block": 7, "event": "Deleveraged", "account": "0xA5", "counterparty": "0xA2", "market": 0,
                    "size": 2 * WAD, "price": 102 * WAD},
                   {"block": 7, "event": "Deleveraged", "account": "0xA5", "counterparty": "0xA1", "market": 0,
                    "size": -1 * WAD, "price": 1035 * WAD // 10}]
    (run_dir / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    with open(run_dir / "metrics.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["block", "price_BTC", "oracle_BTC", "open_interest_BTC", "vault_share_price", "vault_assets",
                    "pending_deficit"])
        for b in range(len(PENDING)):
            w.writerow([b, PRICE[b], PRICE[b], OI[b], SHARE[b], ASSETS[b], PENDING[b]])
    return run_dir
