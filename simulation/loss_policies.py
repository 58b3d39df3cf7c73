"""The loss policies a deployment can choose (deploy config key `loss_policy`, scenario key
`protocol.loss_policy`) and the two artifacts each one deploys: the Clearinghouse and its
liquidation engine (wired with `Clearinghouse.set_loss_engine(engine)`)."""

DEFAULT = "pro_rata_size"

# policy -> (Clearinghouse artifact, liquidation engine artifact); both take (collateral)
ARTIFACTS: dict[str, tuple[str, str]] = {
    "pro_rata_size": ("Clearinghouse", "LiquidationProRataSize"),
    "profit_clawback": ("ClearinghouseProfitClawback", "LiquidationProfitClawback"),
    "adl": ("ClearinghouseAdl", "LiquidationAdl"),
}

NAMES = tuple(ARTIFACTS)


def artifacts(policy: str) -> tuple[str, str]:
    """The (Clearinghouse, engine) artifact names of `policy`; ValueError for an unknown one."""
    try:
        return ARTIFACTS[policy]
    except KeyError:
        raise ValueError(f"unknown loss_policy {policy!r}: expected one of {', '.join(NAMES)}") from None
