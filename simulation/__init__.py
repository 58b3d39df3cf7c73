"""Clawback agent-based simulation.

Drives the real Clawback contracts on a local devnet (anvil over batched JSON-RPC, or an
in-process py-evm chain) with market makers, traders, liquidators, insurance stakers and an
optional attacker, through synthetic or historical price paths, and checks the protocol's
invariants after every block.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
