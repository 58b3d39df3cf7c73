# pragma version 0.4.3
"""
@title ProtocolConstants (tools only, never deployed on a network)
@notice Exposes contracts/modules/constants.vy as getters, so Python reads the protocol's bounds
        from the compiled code (simulation/protocol_constants.py) rather than retyping them.
"""

from ..modules import constants

exports: constants.__interface__
