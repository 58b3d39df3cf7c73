"""A protocol builder for tests: deploys token, feeds, Clearinghouse (and vault) and offers
short verbs (fund, quote, fill, set_price) so tests read as scenarios."""
from dataclasses import dataclass, field
from itertools import count

from simulation.loss_policies import DEFAULT as DEFAULT_LOSS_POLICY
from simulation.loss_policies import artifacts as loss_policy_artifacts

from .orders import Order, order_digest, sign_digest

WAD = 10**18
FEED_DECIMALS = 8


@dataclass
class Protocol:
    project: object
    chain: object
    owner: object
    token: object
    clearinghouse: object
    feeds: list
    vault: object = None
    _nonces: count = field(default_factory=lambda: count(1))

    @property
    def unit(self) -> int:
        return 10 ** self.token.decimals()

    # ---------------------------------------------------------------- money
    def fund(self, account, amount_tokens: float, deposit: bool = True) -> int:
        """Mint `amount_tokens` whole tokens to `account`, approve, and deposit them."""
        amount = int(amount_tokens * self.unit)
        self.token.mint(account, amount, sender=account)
        self.token.approve(self.clearinghouse, 2**256 - 1, sender=account)
        if deposit:
            self.clearinghouse.deposit(amount, sender=account)
        return amount

    # ---------------------------------------------------------------- prices
    def set_price(self, price: float, market: int = 0):
        """Set a market's oracle price in whole tokens per base unit."""
        self.feeds[market].set_answer(int(round(price * 10**FEED_DECIMALS)), sender=self.owner)

    def price(self, market: int = 0) -> int:
        return self.clearinghouse.index_price(market)

    # ---------------------------------------------------------------- orders
    def order(self, maker, size: int, price: int, market: int = 0, nonce: int | None = None, expiry: int | None = None) -> Order:
        """An order with `size` in 1e18 base units (> 0 maker buys) at `price` (1e18 scale)."""
        if expiry is None:
            expiry = self.chain.pending_timestamp + 3600
        return Order(
            account=maker.address,
            market=market,
            size=size,
            limit_price=price,
            nonce=next(self._nonces) if nonce is None else nonce,
            expiry=expiry,
        )

    def sign(self, maker, order: Order) -> bytes:
        digest = order_digest(order, self.chain.chain_id, self.clearinghouse.address)
        return sign_digest(maker.private_key, digest)

    def fill(self, taker, maker, size: int, price: int | None = None, market: int = 0, fill: int | None = None, **kw):
        """The maker signs an order of `size` (maker's side) at `price` (default: oracle) and the
        taker fills `fill` of it (default: all). Returns the receipt."""
        if price is None:
            price = self.price(market)
        order = self.order(maker, size, price, market=market)
        signature = self.sign(maker, order)
        return self.clearinghouse.trade(order.as_tuple(), signature, abs(size) if fill is None else fill, sender=taker, **kw)


def build_protocol(project, chain, owner, decimals: int = 6, markets: int = 1, price: float = 50_000.0,
                   imr: int = WAD // 10, mmr: int = WAD // 20, with_vault: bool = True, cooldown: int = 7 * 86400,
                   loss_policy: str = DEFAULT_LOSS_POLICY) -> Protocol:
    token = owner.deploy(project.MockToken, "Mock USD Coin", "mUSDC", decimals)
    clearinghouse_name, engine_name = loss_policy_artifacts(loss_policy)
    clearinghouse = owner.deploy(getattr(project, clearinghouse_name), token)
    engine = owner.deploy(getattr(project, engine_name), token)
    clearinghouse.set_loss_engine(engine, sender=owner)
    feeds = []
    for _ in range(markets):
        feed = owner.deploy(project.MockAggregator, FEED_DECIMALS, int(price * 10**FEED_DECIMALS))
        clearinghouse.add_market(feed, imr, mmr, sender=owner)
        feeds.append(feed)
    vault = None
    if with_vault:
        vault = owner.deploy(project.InsuranceVault, token, clearinghouse, cooldown)
        clearinghouse.set_insurance_vault(vault, sender=owner)
    return Protocol(project=project, chain=chain, owner=owner, token=token, clearinghouse=clearinghouse, feeds=feeds, vault=vault)
