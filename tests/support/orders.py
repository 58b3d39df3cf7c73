"""EIP-712 order building and signing for tests, computed independently of the contract."""
from dataclasses import dataclass

from eth_abi import encode
from eth_keys import keys
from eth_utils import keccak

ORDER_TYPE = "Order(address account,uint256 market,int256 size,uint256 limit_price,uint256 nonce,uint256 expiry)"
DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class Order:
    account: str
    market: int
    size: int
    limit_price: int
    nonce: int
    expiry: int

    def as_tuple(self):
        return (self.account, self.market, self.size, self.limit_price, self.nonce, self.expiry)


def domain_separator(chain_id: int, verifying_contract: str) -> bytes:
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [keccak(text=DOMAIN_TYPE), keccak(text="Clawback"), keccak(text="1"), chain_id, verifying_contract],
        )
    )


def order_digest(order: Order, chain_id: int, verifying_contract: str) -> bytes:
    struct_hash = keccak(
        encode(
            ["bytes32", "address", "uint256", "int256", "uint256", "uint256", "uint256"],
            [keccak(text=ORDER_TYPE), order.account, order.market, order.size, order.limit_price, order.nonce, order.expiry],
        )
    )
    return keccak(b"\x19\x01" + domain_separator(chain_id, verifying_contract) + struct_hash)


def sign_digest(private_key: str | bytes, digest: bytes) -> bytes:
    """65-byte r || s || v signature (v in {27, 28}, low s)."""
    pk = keys.PrivateKey(bytes.fromhex(private_key[2:]) if isinstance(private_key, str) else private_key)
    sig = pk.sign_msg_hash(digest)
    return sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([sig.v + 27])


def malleable_twin(signature: bytes) -> bytes:
    """The high-s twin of a valid signature: recovers the same signer, must be rejected."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
