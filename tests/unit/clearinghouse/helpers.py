"""Reference arithmetic for the Clearinghouse unit tests.

Every expected value in these tests is computed here or in the test from the formulas documented
in DESIGN.md and in clearing.vy's module docstring:

    notional          = floor(|size| * price / SCALE),   SCALE = 10**(36 - token_decimals)
    fee               = ceil(notional * fee_rate / 1e18)
    position value    = floor(size * oracle_price / SCALE)            (towards minus infinity)
    equity            = collateral + sum_m [ value_m - cost_m - owed_m ]
    margin            = ceil(ceil(|size| * price / SCALE) * ratio / 1e18)
    funding index    += trunc(premium * price * elapsed / (1e18 * funding_period))
    funding owed      = ceil(size * (index - snapshot) / SCALE)       (payers round up)
"""
from support.orders import Order, order_digest, sign_digest

WAD = 10**18
FEED_DECIMALS = 8

# market defaults documented in market_registry.add_market
DEFAULT_TAKER_FEE = 5 * 10**14
DEFAULT_MAKER_FEE = 2 * 10**14
DEFAULT_PRICE_BAND = 5 * 10**16
DEFAULT_MAX_PRICE_AGE = 3600
DEFAULT_LIQUIDATOR_SHARE = 5 * 10**17
DEFAULT_CLOSE_FACTOR = 5 * 10**17
DEFAULT_FUNDING_PERIOD = 8 * 3600
DEFAULT_MAX_FUNDING_PREMIUM = 5 * 10**15
DEFAULT_MAX_OPEN_INTEREST = 10**6 * WAD
DEFAULT_INSURANCE_FEE_SHARE = 5 * 10**17

IMR = WAD // 10
MMR = WAD // 20
PRICE = 50_000 * WAD  # the `protocol` fixture's oracle price
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


# ---------------------------------------------------------------- integer rounding
def ceil_div(a: int, d: int) -> int:
    return -((-a) // d)


def trunc_div(a: int, d: int) -> int:
    """EVM signed division (Vyper `//` on int256): rounds towards zero."""
    q = abs(a) // abs(d)
    return q if (a >= 0) == (d > 0) else -q


def scale(decimals: int = 6) -> int:
    return 10 ** (36 - decimals)


def notional(size: int, price: int, decimals: int = 6) -> int:
    return abs(size) * price // scale(decimals)


def value(size: int, price: int, decimals: int = 6) -> int:
    return (size * price) // scale(decimals)  # Python floors: towards minus infinity


def fee(amount: int, rate: int) -> int:
    return ceil_div(amount * rate, WAD)


def margin(size: int, price: int, ratio: int, decimals: int = 6) -> int:
    return ceil_div(ceil_div(abs(size) * price, scale(decimals)) * ratio, WAD)


def funding_owed(size: int, index_delta: int, decimals: int = 6) -> int:
    return ceil_div(size * index_delta, scale(decimals))


def index_step(premium: int, price: int, elapsed: int, period: int = DEFAULT_FUNDING_PERIOD) -> int:
    return trunc_div(premium * price * elapsed, WAD * period)


def fill_premium(fill_price: int, oracle: int, cap: int = DEFAULT_MAX_FUNDING_PREMIUM) -> int:
    deviation = abs(fill_price - oracle)
    premium = deviation * WAD // oracle
    if fill_price < oracle:
        premium = -premium
    return max(-cap, min(cap, premium))


def blend(old_premium: int, fill_premium_: int, fill_size: int, open_interest_before: int,
          cap: int = DEFAULT_MAX_FUNDING_PREMIUM) -> int:
    """The premium after a fill: the old premium clamped to the current cap moves towards the
    fill's (capped) premium by the fill's weight against the open interest,
    fill / (open interest + fill), the step truncated towards zero."""
    old = max(-cap, min(cap, old_premium))
    return old + trunc_div((fill_premium_ - old) * fill_size, open_interest_before + fill_size)


# ---------------------------------------------------------------- protocol verbs
def fund(protocol, account, amount: int, deposit: bool = True) -> int:
    """Mint `amount` token base units to `account`, approve the Clearinghouse, deposit."""
    protocol.token.mint(account, amount, sender=account)
    protocol.token.approve(protocol.clearinghouse, 2**256 - 1, sender=account)
    if deposit:
        protocol.clearinghouse.deposit(amount, sender=account)
    return amount


def set_feed(protocol, price: int, market: int = 0, updated_at: int | None = None):
    """Set a market's 8-decimal feed to `price` (1e18 scale, must be representable)."""
    assert price % 10 ** (18 - FEED_DECIMALS) == 0
    answer = price // 10 ** (18 - FEED_DECIMALS)
    feed = protocol.feeds[market]
    if updated_at is None:
        return feed.set_answer(answer, sender=protocol.owner)
    return feed.set_answer_at(answer, updated_at, sender=protocol.owner)


def quote(protocol, maker, size: int, price: int, market: int = 0, nonce=None, expiry=None):
    """A signed maker order: (Order, signature)."""
    order = protocol.order(maker, size, price, market=market, nonce=nonce, expiry=expiry)
    return order, protocol.sign(maker, order)


def fill(protocol, taker, maker, size: int, price: int, fill_size: int | None = None, market: int = 0):
    """The maker signs `size` (its side) at `price`; the taker fills `fill_size` (all by default)."""
    order, signature = quote(protocol, maker, size, price, market=market)
    amount = abs(size) if fill_size is None else fill_size
    return protocol.clearinghouse.trade(order.as_tuple(), signature, amount, sender=taker)


def digest_of(protocol, order: Order) -> bytes:
    return order_digest(order, protocol.chain.chain_id, protocol.clearinghouse.address)


def sign_for(account, order: Order, chain_id: int, verifying_contract: str) -> bytes:
    return sign_digest(account.private_key, order_digest(order, chain_id, verifying_contract))


def block_time(chain, receipt) -> int:
    return chain.blocks[receipt.block_number].timestamp


def mine_at(chain, timestamp: int):
    """Mine a block at `timestamp`; views then read the chain at that time."""
    chain.mine(timestamp=timestamp)
    assert chain.blocks.head.timestamp == timestamp


def next_tx_at(chain, timestamp: int):
    """The next transaction is mined at `timestamp`."""
    chain.pending_timestamp = timestamp


def conservation_gap(protocol, accounts) -> int:
    ch = protocol.clearinghouse
    total_equity = sum(ch.equity(a) for a in accounts)
    return protocol.token.balanceOf(ch) + ch.bad_debt() - ch.treasury() - total_equity


def events(contract_event, receipt) -> list:
    return list(contract_event.from_receipt(receipt))


# ---------------------------------------------------------------- reference ledger
class Book:
    """Expected accounts, following clearing.vy's documented accounting model.

    Each account has a settled `collateral`, a signed `size` and a signed `cost` (the notional
    paid for the open position: > 0 long, < 0 short). A fill of `delta` at `price` moves
    notional = floor(|delta| * price / SCALE) into both sides' cost; the part of the cost that
    belongs to the closed size is realized into collateral:
      - increase / open: cost += signed notional, nothing realized;
      - reduce: the remaining cost is the pro-rata share floor(cost * |new| / |old|);
      - flip: the remaining cost is the new side at the fill price, floor(new * price / SCALE);
      - close: the remaining cost is 0.
    The realized amount (old cost + signed notional - remaining cost) leaves `cost` and
    enters `collateral` with the opposite sign, so equity does not move; rounding the
    remaining cost down realizes less into withdrawable collateral.
    """

    def __init__(self, decimals: int = 6, taker_fee: int = DEFAULT_TAKER_FEE, maker_fee: int = DEFAULT_MAKER_FEE):
        self.decimals = decimals
        self.taker_fee = taker_fee
        self.maker_fee = maker_fee
        self.collateral = {}
        self.size = {}
        self.cost = {}
        self.fees = 0

    def deposit(self, account, amount: int):
        key = str(account)
        self.collateral[key] = self.collateral.get(key, 0) + amount
        self.size.setdefault(key, 0)
        self.cost.setdefault(key, 0)

    def fill(self, maker, taker, maker_delta: int, price: int):
        """Returns (maker_fee, taker_fee)."""
        n = notional(maker_delta, price, self.decimals)
        self._apply(str(maker), maker_delta, n, price)
        self._apply(str(taker), -maker_delta, n, price)
        maker_fee, taker_fee = fee(n, self.maker_fee), fee(n, self.taker_fee)
        self.collateral[str(maker)] -= maker_fee
        self.collateral[str(taker)] -= taker_fee
        self.fees += maker_fee + taker_fee
        return maker_fee, taker_fee

    def _apply(self, key, delta, n, price):
        old = self.size.get(key, 0)
        cost = self.cost.get(key, 0)
        new = old + delta
        total = cost + (n if delta > 0 else -n)
        flipped = old != 0 and new != 0 and (old > 0) != (new > 0)
        reducing = (old > 0 and 0 <= new < old) or (old < 0 and old < new <= 0)
        if new == 0:
            remaining = 0
        elif flipped:
            remaining = (new * price) // scale(self.decimals)
        elif reducing:
            remaining = (cost * abs(new)) // abs(old)
        else:
            remaining = total
        self.collateral[key] = self.collateral.get(key, 0) - (total - remaining)
        self.size[key] = new
        self.cost[key] = remaining

    def equity(self, account, mark: int) -> int:
        key = str(account)
        return self.collateral[key] + value(self.size[key], mark, self.decimals) - self.cost[key]
