"""Reference arithmetic of the profit_clawback policy (contracts/modules/profit_clawback.vy and
loss_index.vy), shared by its unit tests and the waterfall fuzz machine."""
WAD = 10**18


def ceil_div(a: int, d: int) -> int:
    """ceil(a / d) for d > 0, a of any sign."""
    return -((-a) // d)


def side_profit(open_interest: int, cost_sum: int, price: int, long_side: bool, scale: int) -> int:
    """The side's net unrealized profit as the contract rounds it (down); <= 0: nothing to charge."""
    if long_side:
        return open_interest * price // scale - cost_sum
    return cost_sum - ceil_div(open_interest * price, scale)


def charge(amount: int, open_interest: int, cost_sum: int, price: int, long_side: bool, scale: int):
    """The event hook: (charged, dx, dy); charged = min(amount, side profit), 0 if no profit."""
    profit = side_profit(open_interest, cost_sum, price, long_side, scale)
    if amount == 0 or open_interest == 0 or profit <= 0:
        return 0, 0, 0
    charged = min(amount, profit)
    if long_side:
        return charged, ceil_div(charged * price, profit), -(charged * WAD // profit)
    return charged, -(charged * price // profit), ceil_div(charged * WAD, profit)


def accrued(size: int, cost: int, dx: int, dy: int, scale: int) -> int:
    """The unclamped charge u of a position since its snapshot (each term rounded up)."""
    if size == 0:
        return 0
    return ceil_div(abs(size) * dx, scale) + ceil_div(abs(cost) * dy, WAD)


def owed(size: int, cost: int, dx: int, dy: int, scale: int) -> int:
    """What the position pays: u clamped at 0 (a position not in profit pays nothing)."""
    return max(accrued(size, cost, dx, dy, scale), 0)


def excess(size: int, cost: int, dx: int, dy: int, scale: int) -> int:
    """What settling the position credits to the insurance vault: the clamped-away part."""
    return max(-accrued(size, cost, dx, dy, scale), 0)
