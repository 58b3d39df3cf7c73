# pragma version 0.4.3
# pragma nonreentrancy on
# pragma optimize codesize
# pragma experimental-codegen
"""
@title Clearinghouse
@notice Clawback's perpetual-futures clearinghouse: one collateral token, cross-margin
        accounts over several markets, signed-order trading, funding, liquidation and the
        loss waterfall (insurance vault, haircut, bad debt). See DESIGN.md for the interface,
        units and invariants; the logic lives in the modules under contracts/modules/.
@dev Thin deployable: it wires the modules together and lists what it exports.
"""

from ethereum.ercs import IERC20Detailed
from .modules import ownable_2step as ownable
from .modules import market_registry as registry
from .modules import haircut
from .modules import clearing
from .modules import liquidation

initializes: ownable
initializes: registry[ownable := ownable]
initializes: haircut
initializes: clearing[ownable := ownable, registry := registry, haircut := haircut]
initializes: liquidation[registry := registry, haircut := haircut, clearing := clearing]

exports: (
    ownable.__interface__,
    registry.__interface__,
    haircut.__interface__,
    clearing.__interface__,
    liquidation.__interface__,
)


@deploy
def __init__(collateral: address):
    """
    @param collateral The collateral token (at most 18 decimals). The deployer becomes owner
           and guardian.
    """
    assert collateral.is_contract, "clearinghouse: collateral is not a contract"
    decimals: uint256 = convert(staticcall IERC20Detailed(collateral).decimals(), uint256)
    ownable.__init__()
    registry.__init__(10**decimals)
    clearing.__init__(collateral, decimals)
