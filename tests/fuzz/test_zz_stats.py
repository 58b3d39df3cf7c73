import collections
import test_waterfall_stateful as W
import test_trading_stateful as T
from test_waterfall_stateful import waterfall_env  # noqa
from test_trading_stateful import trading_env  # noqa
from hypothesis.stateful import run_state_machine_as_test

counts = collections.Counter()

def test_stats(waterfall_env, trading_env, traders, liquidator, staker, other, chain):
    W.event = T.event = lambda s: counts.update([s])
    protocol, evm, harness_cls, params = waterfall_env
    W.WaterfallMachine.env = (protocol, evm, harness_cls, params, traders, liquidator, (staker, other), chain)
    run_state_machine_as_test(W.WaterfallMachine, settings=W.FUZZ_SETTINGS)
    for k, v in sorted(counts.items()): print("W", v, k)
    assert False
    counts.clear()
    protocol, evm, harness_cls = trading_env
    T.TradingMachine.env = (protocol, evm, harness_cls, traders, chain)
    run_state_machine_as_test(T.TradingMachine, settings=T.FUZZ_SETTINGS)
    for k, v in sorted(counts.items()): print("T", v, k)
