"""The invariant checker: fabricated readings (good and broken accounting)."""
import pytest

from simulation.invariants import AccountReading, BlockFlags, Event, InvariantChecker, Readings
from simulation.scenario import InvariantConfig

E18 = 10**18
A, B, C = "0xA", "0xB", "0xC"


def readings(block=1, accounts=None, ch_balance=None, treasury=100, bad_debt=0, oi=None, price=30_000, soc=0,
             vault_assets=1_000_000, vault_balance=None, share_price=1.0, open_losses=0):
    accounts = accounts if accounts is not None else {
        A: AccountReading(10_000, 10_500, 3_000, 1_500, (E18,)),
        B: AccountReading(20_000, 19_500, 3_000, 1_500, (-E18,)),
        C: AccountReading(5_000, 5_000, 0, 0, (0,)),
    }
    eq = sum(a.equity for a in accounts.values())
    return Readings(block, 1000 + block * 60, eq + treasury - bad_debt if ch_balance is None else ch_balance,
                    treasury, bad_debt, (E18,) if oi is None else oi, (price * E18,), (soc,), accounts,
                    vault_assets, 10**12, vault_assets if vault_balance is None else vault_balance, share_price,
                    vault_open_losses=open_losses)


def checker(**kw):
    return InvariantChecker(InvariantConfig(**{"dust_per_account": 2, "dust_per_block": 0, **kw}), [0.1], [0.05])


def checks(v):
    return {x.check for x in v}


def test_consistent_readings_pass():
    c = checker()
    r0, r1 = readings(0), readings(1)
    assert c.check(r0, None) == []
    assert c.check(r1, r0) == []


def test_conservation_catches_missing_and_created_money():
    c = checker()
    good = readings()
    assert checks(c.conservation(readings(ch_balance=good.ch_balance - 1))) == {"conservation"}  # money missing
    assert checks(c.conservation(readings(ch_balance=good.ch_balance + 7))) == {"conservation"}  # beyond 3x2 dust
    assert c.conservation(readings(ch_balance=good.ch_balance + 6)) == []


def test_balanced_book():
    c = checker()
    assert checks(c.balanced_book(readings(oi=(2 * E18,)))) == {"balanced_book"}
    lopsided = {A: AccountReading(1, 1, 0, 0, (2 * E18,)), B: AccountReading(1, 1, 0, 0, (-E18,))}
    assert checks(c.balanced_book(readings(accounts=lopsided, oi=(2 * E18,)))) == {"balanced_book"}


def test_solvency_and_negative_equity_grace():
    c = checker(negative_equity_grace_blocks=2)
    neg = {A: AccountReading(100, -50, 0, 10, (E18,)), B: AccountReading(100, 250, 0, 10, (-E18,))}
    r = readings(accounts=neg)
    assert c.solvency(r) == []  # pending deficit: conservation is what must hold meanwhile
    rich = {A: AccountReading(100, 150, 0, 10, (E18,)), B: AccountReading(100, 250, 0, 10, (-E18,))}
    assert checks(c.solvency(readings(accounts=rich, ch_balance=300))) == {"solvency"}
    c2 = checker(negative_equity_grace_blocks=2)
    for b in (1, 2, 3):
        assert c2.solvency(readings(block=b, accounts=neg)) == []
    assert checks(c2.solvency(readings(block=4, accounts=neg))) == {"solvency.negative_equity_left"}


def bankruptcy(deficit, ins, soc, bad):
    return Event("Bankruptcy", {"account": A, "deficit": deficit, "insurance_paid": ins, "socialized": soc,
                                "bad_debt": bad})


def test_waterfall_split_and_deltas():
    c = checker()
    prev, cur = readings(0), readings(1, soc=400, bad_debt=0)
    ok = [Event("Cover", {"requested": 1000, "paid": 600, "total_assets": 999_400}), bankruptcy(1000, 600, 400, 0)]
    assert c.waterfall(cur, prev, ok) == []
    assert "waterfall.split" in checks(c.waterfall(cur, prev, [bankruptcy(1000, 600, 300, 0)]))
    assert "waterfall.bad_debt" in checks(c.waterfall(readings(1, soc=400, bad_debt=5), prev, ok))
    assert "waterfall.haircut" in checks(c.waterfall(readings(1, soc=300), prev, ok))  # charged less than residual
    # haircut while the vault had money and was never asked
    assert "waterfall.order" in checks(c.waterfall(readings(1, soc=1000), prev, [bankruptcy(1000, 0, 1000, 0)]))
    assert "waterfall.insurance" in checks(c.waterfall(readings(1), readings(0, vault_assets=10),
                                                       [bankruptcy(20, 20, 0, 0)]))  # paid with no Cover
    over = [Event("Cover", {"requested": 20, "paid": 10, "total_assets": 0}), bankruptcy(20, 20, 0, 0)]
    assert "waterfall.insurance" in checks(c.waterfall(readings(1), readings(0), over))


def test_vault_must_pay_its_limit_before_the_haircut():
    c = checker()
    c.vault_max_cover_ratio, c.vault_min_reserve = E18 // 4, 1_000
    prev = readings(0, vault_assets=100_000)
    # vault had 100k, limit 25k: paying 25k then socializing the rest is right
    ok = [Event("Cover", {"requested": 60_000, "paid": 25_000, "total_assets": 75_000, "tx": "t"}),
          Event("Bankruptcy", {"account": A, "deficit": 60_000, "insurance_paid": 25_000, "socialized": 35_000,
                               "bad_debt": 0, "tx": "t"})]
    assert c.waterfall(readings(1, soc=35_000, vault_assets=75_000), prev, ok) == []
    short = [Event("Cover", {"requested": 60_000, "paid": 10_000, "total_assets": 90_000, "tx": "t"}),
             Event("Bankruptcy", {"account": A, "deficit": 60_000, "insurance_paid": 10_000, "socialized": 50_000,
                                  "bad_debt": 0, "tx": "t"})]
    assert "waterfall.order" in checks(c.waterfall(readings(1, soc=50_000, vault_assets=90_000), prev, short))


def test_bad_debt_while_the_opposite_side_exists_is_caught():
    c = checker()
    prev = readings(0)
    ev = [Event("BankruptcyTakeover", {"account": C, "market": 0, "size": E18, "loss": 500, "tx": "t"}),
          Event("Bankruptcy", {"account": C, "deficit": 500, "insurance_paid": 0, "socialized": 0, "bad_debt": 500,
                               "tx": "t"})]
    v = c.waterfall(readings(1, bad_debt=500, vault_assets=0), readings(0, vault_assets=0), ev)
    assert "waterfall.bad_debt_only_when_nobody_can_pay" in checks(v)  # B is short: it could be haircut


def test_healthy_account_liquidation_is_caught():
    c = checker()
    # A: long 1 @30k, equity 10k tokens vs maintenance 1.5k tokens: healthy
    prev = readings(0, accounts={A: AccountReading(10**10, 10**10, 3 * 10**9, 1_500 * 10**6, (E18,)),
                                 B: AccountReading(10**9, 10**9, 0, 0, (-E18,))})
    cur = readings(1, accounts=prev.accounts)
    ev = Event("Liquidation", {"account": A, "liquidator": B, "market": 0, "size": E18})
    assert "no_healthy_liquidation" in checks(c.liquidations(cur, prev, [ev]))
    # after a 40 % drop the same position is under water: legal
    cur2 = readings(1, price=18_000, accounts={A: AccountReading(0, 0, 0, 0, (E18,)),
                                               B: AccountReading(10**9, 10**9, 0, 0, (-E18,))})
    prev2 = readings(0, accounts={A: AccountReading(1_200 * 10**6, 1_200 * 10**6, 0, 0, (E18,)),
                                  B: AccountReading(10**9, 10**9, 0, 0, (-E18,))})
    assert c.liquidations(cur2, prev2, [Event("Bankruptcy", {"account": A})]) == []


def test_vault_checks():
    c = checker()
    assert checks(c.vault(readings(vault_balance=999_999), None, [], BlockFlags())) == {"vault.assets"}
    prev = readings(0, share_price=1.0)
    assert checks(c.vault(readings(1, share_price=0.9), prev, [], BlockFlags())) == {"vault.share_price"}
    assert c.vault(readings(1, share_price=0.9), prev, [bankruptcy(10, 10, 0, 0)], BlockFlags()) == []
    assert checks(c.vault(readings(1, share_price=1.1), prev, [], BlockFlags())) == {"vault.share_price"}
    assert c.vault(readings(1, share_price=1.1), prev, [Event("Revenue", {"amount": 5})], BlockFlags()) == []


def settled(who, remaining=0):
    return Event("RedeemSettled", {"controller": who, "shares": 10, "assets": 10, "forfeited": 0,
                                   "remaining_shares": remaining, "remaining_assets": 0}, "InsuranceVault")


def test_vault_claims_need_a_matured_request_inside_its_window():
    c = checker()
    prev = readings(0)          # timestamp 1000; block 1 is at 1060
    assert checks(c.vault(readings(1), prev, [settled(A)], BlockFlags())) == {"vault.redeem_cooldown"}
    for window, bad in [((1000, 1100), False), ((1061, 1200), True), ((900, 1059), True)]:
        prev.vault_requests = {A: (10, 10, *window)}
        got = checks(c.vault(readings(1), prev, [settled(A)], BlockFlags()))
        assert got == ({"vault.redeem_cooldown"} if bad else set()), window
    # a renewal in the same block restarts the clock before the claim
    prev.vault_requests = {A: (10, 10, 1000, 1100)}
    renew = Event("RedeemScheduled", {"controller": A, "shares": 10, "assets": 10, "claimable_from": 1180,
                                      "claimable_until": 1300}, "InsuranceVault")
    assert checks(c.vault(readings(1), prev, [renew, settled(A)], BlockFlags())) == {"vault.redeem_cooldown"}


def test_no_claim_while_a_flagged_loss_is_pending():
    c = checker()
    prev = readings(0)
    prev.vault_requests = {A: (10, 10, 1000, 1100)}
    flagged, cleared = ({"account": B, "equity": -5, "open_losses": n} for n in (1, 0))
    flag = Event("LossFlagged", flagged, "InsuranceVault")
    clear = Event("LossCleared", cleared, "InsuranceVault")
    assert checks(c.vault(readings(1, open_losses=1), prev, [flag, settled(A)], BlockFlags())) == {"vault.loss_pending"}
    assert c.vault(readings(1), prev, [flag, clear, settled(A)], BlockFlags()) == []
    prev.vault_open_losses = 1
    assert checks(c.vault(readings(1, open_losses=1), prev, [settled(A)], BlockFlags())) == {"vault.loss_pending"}
    assert c.vault(readings(1), prev, [clear, settled(A)], BlockFlags()) == []
    # open_losses may move only through the vault's own events
    assert checks(c.vault(readings(1), prev, [], BlockFlags())) == {"vault.loss_flags"}


@pytest.mark.parametrize("mutate", ["balance", "oi", "bad_debt"])
def test_full_check_flags_fabricated_broken_accounting(mutate):
    c = checker()
    prev = readings(0)
    kw = {"balance": {"ch_balance": prev.ch_balance - 1_000}, "oi": {"oi": (3 * E18,)}, "bad_debt": {"bad_debt": 50}}[mutate]
    v = c.check(readings(1, **kw), prev, [])
    assert v, f"broken {mutate} went unnoticed"


# -- per loss policy (DESIGN.md invariant 7) ---------------------------------------------------

def test_conservation_allows_exactly_the_unsettled_profit_clawback_excess():
    c = checker()
    r = readings(1, ch_balance=None)
    r.ch_balance += 500  # clamped charges not yet settled into the vault
    assert "conservation" in checks(c.conservation(r))
    r.policy_excess = 500
    assert c.conservation(r) == []
    r.policy_excess = 600  # more than what the Clearinghouse holds
    assert "conservation" in checks(c.conservation(r))


def policy_settled(account, haircut, excess):
    return Event("Settled", {"account": account, "market": 0, "funding": 0, "haircut": haircut, "excess": excess},
                 "Clearinghouse")


def test_profit_clawback_checks():
    c = checker()
    c.policy = "profit_clawback"
    event = Event("ProfitClawedBack", {"market": 0, "long_side": False, "amount": 750, "side_profit": 1_000,
                                       "index_x": 0, "index_y": 0})
    assert c.profit_clawback([event]) == []
    too_much = Event("ProfitClawedBack", {**event.args, "amount": 1_001})
    assert "profit_clawback.h_le_1" in checks(c.profit_clawback([too_much]))
    # a settled position is charged or clamped, never both
    assert "profit_clawback.no_charge_without_profit" in checks(c.profit_clawback([policy_settled(A, 5, 3)]))


def test_profit_clawback_total_charged_is_residual_plus_excess():
    c = checker()
    c.policy = "profit_clawback"
    c.profit_clawback([Event("ProfitClawedBack", {"market": 0, "long_side": False, "amount": 750,
                                                   "side_profit": 1_000, "index_x": 0, "index_y": 0})])
    # winners pay 750 + the losers' 100 excess (+1 rounding); the loser's excess goes to the vault
    assert c.final([policy_settled(A, 600, 0), policy_settled(B, 251, 0), policy_settled(C, 0, 100)]) == []
    short = checker()
    short.policy = "profit_clawback"
    short.pc_residual = 750
    assert "profit_clawback.total_charged" in checks(short.final([policy_settled(A, 700, 0)]))  # below the residual
    over = checker()
    over.policy = "profit_clawback"
    over.pc_residual = 750
    assert "profit_clawback.total_charged" in checks(over.final([policy_settled(A, 900, 0)]))  # beyond residual + bound


def deleveraged(counterparty, price, size=E18 // 2):
    return Event("Deleveraged", {"account": A, "counterparty": counterparty, "market": 0, "size": size,
                                 "price": price}, "Clearinghouse")


def test_adl_fills_at_the_bankruptcy_price_against_the_best_ranked_winner():
    D = "0xD"
    c = checker()
    c.policy = "adl"
    prev = readings(0, accounts={A: AccountReading(0, -100, 0, 0, (E18,)),
                                 B: AccountReading(0, 500, 0, 0, (-E18 // 2,)),
                                 D: AccountReading(0, 500, 0, 0, (-E18 // 2,)),
                                 C: AccountReading(0, 500, 0, 0, (E18 // 2,))}, oi=(3 * E18 // 2,))
    cur = readings(1, accounts={A: AccountReading(0, 0, 0, 0, (E18 // 2,)),
                                B: AccountReading(0, 500, 0, 0, (0,)),
                                D: AccountReading(0, 500, 0, 0, (-E18 // 2,)),
                                C: AccountReading(0, 500, 0, 0, (E18 // 2,))}, oi=(E18,))
    c.adl_prev_prices = {(A, 0): 29_000 * E18}
    c.adl_prev_rank = {(B, 0): (700, 300), (D, 0): (690, 300), (C, 0): (650, -50)}
    assert c.adl(cur, prev, [deleveraged(B, 29_000 * E18)]) == []  # shorts: the highest bucket first
    assert "adl.bankruptcy_price" in checks(c.adl(cur, prev, [deleveraged(B, 29_500 * E18)]))
    assert "adl.opposite_side" in checks(c.adl(cur, prev, [deleveraged(C, 29_000 * E18)]))
    c.adl_prev_rank = {(B, 0): (690, 300), (D, 0): (700, 300)}  # D ranked better and left untouched
    assert "adl.ranking" in checks(c.adl(cur, prev, [deleveraged(B, 29_000 * E18)]))


def test_adl_bad_debt_only_when_no_winner_adl_would_accept():
    """loss_policy adl (the crash finding, issue 10): bad debt may be booked while opposite size
    exists, when none of it is a winner ADL accepts. C (long 1) is taken over at the oracle
    (18,000) after its winners were exhausted; B's short was opened after the crash (bucket of
    the price, losing) and D's was re-based at the oracle by a fill (no profit left): the
    size-based rule flagged 2 BTC of opposite size; the adl rule holds. A short E still ranked
    five buckets beyond the price, in profit and untouched this block, is a violation; once E
    was filled or closed in the block, it is not."""
    from support.adl_model import bucket_of

    price = 18_000 * E18
    at = bucket_of(price)
    D, E = "0xD", "0xE"

    def book(e_short):
        return {A: AccountReading(10**9, 10**9, 0, 0, (0,)), B: AccountReading(10**9, 10**9, 0, 0, (-E18,)),
                C: AccountReading(0, 0, 0, 0, (0,)), D: AccountReading(10**9, 10**9, 0, 0, (-E18,)),
                E: AccountReading(10**9, 10**9, 0, 0, (e_short,))}

    ev = [Event("BankruptcyTakeover", {"account": C, "market": 0, "size": E18, "price": price, "loss": 500, "tx": "t"}),
          Event("Bankruptcy", {"account": C, "deficit": 500, "insurance_paid": 0, "socialized": 0, "bad_debt": 500,
                               "tx": "t"})]
    c = checker()
    c.policy = "adl"
    c.adl_prev_rank = {(B, 0): (at, -40), (D, 0): (at + 1, 0)}
    prev = readings(0, accounts=book(0), price=18_000, vault_assets=0)
    cur = readings(1, accounts=book(0), bad_debt=500, price=18_000, vault_assets=0)
    assert "waterfall.bad_debt_only_when_nobody_can_pay" not in checks(c.waterfall(cur, prev, ev))
    c.adl_prev_rank[(E, 0)] = (at + 5, 2_000)
    prev = readings(0, accounts=book(-E18), price=18_000, vault_assets=0)
    cur = readings(1, accounts=book(-E18), bad_debt=500, price=18_000, vault_assets=0)
    assert "waterfall.bad_debt_only_when_nobody_can_pay" in checks(c.waterfall(cur, prev, ev))
    cur = readings(1, accounts=book(-E18 // 2), bad_debt=500, price=18_000, vault_assets=0)  # E was filled
    assert "waterfall.bad_debt_only_when_nobody_can_pay" not in checks(c.waterfall(cur, prev, ev))
    # the size-based rule is still the one for the other policies
    c.policy = "pro_rata_size"
    assert "waterfall.bad_debt_only_when_nobody_can_pay" in checks(c.waterfall(cur, prev, ev))


def test_checker_bucket_is_the_contracts():
    """The checker's ADL bucket arithmetic is the reference model's (tests/support/adl_model.py,
    itself checked against the contract's `adl_bucket_of_price`)."""
    from simulation.liquidation_policy import adl_bucket_of
    from support.adl_model import bucket_of

    for price in (1, 127, 128, 129, 10**12 + 7, 18_000 * E18, 17_953_208_840_200 * 10**6, 2**255):
        assert adl_bucket_of(price) == bucket_of(price)


def test_adl_deficit_grown_by_a_late_takeover_is_not_a_skipped_vault():
    """loss_policy adl (crash seeds 2 and 3 before the keeper fix): C's resolution starts in
    block 1 (Cover: the vault is asked for the deficit, 1,000, plus the keeper reward, and pays
    its limit, 300); no winner is left and the keeper takes C's long at the oracle in block 2,
    which has fallen since: bad debt 900 > the residual 700, so Bankruptcy reports deficit
    300 + 900 = 1,200. The vault was asked for the deficit at the start; that is no
    "waterfall.order" violation (it was one, "the vault is asked for the whole deficit"). A
    Cover that asked for less than the start's deficit still is."""
    c = checker()
    c.policy = "adl"
    c.vault_max_cover_ratio, c.vault_min_reserve = E18 // 2, 0
    start = Event("Cover", {"requested": 1_005, "paid": 300, "total_assets": 300, "tx": "t1"}, subject=C)
    assert c.waterfall(readings(1), readings(0), [start]) == []
    end = [Event("BankruptcyTakeover", {"account": C, "market": 0, "size": E18, "price": 30_000 * E18, "loss": 900,
                                        "tx": "t2"}),
           Event("Bankruptcy", {"account": C, "deficit": 1_200, "insurance_paid": 300, "socialized": 0,
                                "bad_debt": 900, "tx": "t2"})]
    assert "waterfall.order" not in checks(c.waterfall(readings(2, bad_debt=900), readings(1), end))
    short = Event("Cover", {"requested": 900, "paid": 300, "total_assets": 300, "tx": "t1"}, subject=C)
    c.waterfall(readings(1), readings(0), [short])
    end[1].args["socialized"], end[1].args["bad_debt"] = 100, 600  # winners paid: the deficit is the start's
    end[1].args["deficit"] = 1_000
    assert "waterfall.order" in checks(c.waterfall(readings(2, bad_debt=600), readings(1), end))
