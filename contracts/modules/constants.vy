# pragma version 0.4.3
"""
@title Clawback protocol constants
@notice The numbers the contracts share, written once: the fixed-point unit, the bounds the
        market registry and the insurance vault enforce on their parameters, and the
        clearinghouse's batch-read bound.
@dev Public so that off-chain tools read them back from the compiled contracts instead of
     retyping them: `contracts/mocks/ProtocolConstants.vy` exports this interface, and
     `simulation/protocol_constants.py` evaluates its getters from the build artifact. Importing
     this module for its constants adds no code to a deployable (it is not exported there).
"""


# fixed point: 1e18 = 100 % for ratios, one base asset for sizes, one token per asset for prices
WAD: public(constant(uint256)) = 10**18

# market registry (contracts/modules/market_registry.vy)
MAX_MARKETS: public(constant(uint256)) = 16
MAX_FEE: public(constant(uint256)) = 10**16  # 1 % per fill
MAX_PRICE_BAND: public(constant(uint256)) = 5 * 10**17  # 50 % around the oracle
MAX_PRICE_AGE: public(constant(uint256)) = 7 * 86400
MIN_FUNDING_PERIOD: public(constant(uint256)) = 60
MAX_FUNDING_PERIOD: public(constant(uint256)) = 30 * 86400
MAX_FUNDING_PREMIUM: public(constant(uint256)) = 10**17  # 10 % per funding period

# clearinghouse (contracts/modules/clearing.vy): accounts per `account_summaries` call
MAX_SUMMARY_BATCH: public(constant(uint256)) = 256

# insurance vault (contracts/InsuranceVault.vy)
MAX_COOLDOWN: public(constant(uint256)) = 30 * 86400
MIN_RESERVE_FLOOR: public(constant(uint256)) = 1  # the vault never pays out its last base unit
