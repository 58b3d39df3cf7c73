# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title engine_link
@notice The Clearinghouse's link to its liquidation engine: the deployable that holds the
        liquidation and bankruptcy externals of one loss policy (LiquidationProRataSize,
        LiquidationProfitClawback, ...). The Clearinghouse runs the engine's code by
        DELEGATECALL on its own storage, which keeps each deployable below EIP-170's limit
        while the external interface stays on the Clearinghouse.
@dev Both deployables initialize the same modules in the same order (this one included), so
     their storage layouts agree slot for slot; a policy module's own storage, if any, must be
     initialized after every shared module. The Clearinghouse's stubs are `@reentrant`: the
     engine's functions take the (shared, transient) reentrancy lock themselves.
"""


# the engine whose code runs the liquidation externals (set once)
loss_engine: public(address)


event LossEngineSet:
    engine: indexed(address)


@internal
def _set(engine: address):
    """
    @dev Record the engine, once.
    @param engine A deployed engine for this Clearinghouse's loss policy and collateral.
    """
    assert engine.is_contract, "set_loss_engine: engine is not a contract"
    assert self.loss_engine == empty(address), "set_loss_engine: engine already set"
    self.loss_engine = engine
    log LossEngineSet(engine=engine)


@internal
def _delegate():
    """
    @dev Run the current call (same selector and arguments) on the engine's code against this
         contract's storage; a revert bubbles up with its reason.
    """
    engine: address = self.loss_engine
    assert engine != empty(address), "clearinghouse: no liquidation engine"
    raw_call(engine, msg.data, is_delegate_call=True)
