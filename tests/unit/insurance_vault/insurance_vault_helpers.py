"""Reference arithmetic for the InsuranceVault tests (plain Python integers).

shares = assets * (supply + 10**6) / (total_assets + 1), and the inverse, each either rounded
down or up; these mirror the documented formulas, independently of the contract.
"""

USDC = 10**6
DAY = 86_400
COOLDOWN = 7 * DAY
VIRTUAL_SHARES = 10**6
VIRTUAL_ASSETS = 1
WAD = 10**18
MAX_UINT = 2**256 - 1


def mul_div(x, y, d, up=False):
    q, r = divmod(x * y, d)
    return q + 1 if up and r else q


def to_shares(assets, total_assets, supply, up=False):
    return mul_div(assets, supply + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS, up)


def to_assets(shares, total_assets, supply, up=False):
    return mul_div(shares, total_assets + VIRTUAL_ASSETS, supply + VIRTUAL_SHARES, up)


def state(vault):
    """(totalAssets, totalSupply) of the vault."""
    return vault.totalAssets(), vault.totalSupply()


def events(receipt, name, contract=None):
    """The `name` events of `receipt`, only those emitted by `contract` if given."""
    return [
        e
        for e in receipt.events
        if e.event_name == name and (contract is None or e.contract_address == contract.address)
    ]
