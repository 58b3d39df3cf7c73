"""EIP-712 order hashing/signing and the hand-written ABI encodings against reference libraries."""
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data

from simulation.abi import FunctionSpec
from simulation.keys import SECP256K1_N, Order, derive_key, domain_separator, encode_trade_args, order_digest, sign_digest

CH = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def typed(order: Order, chain_id=31337):
    return {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            "Order": [{"name": "account", "type": "address"}, {"name": "market", "type": "uint256"},
                      {"name": "size", "type": "int256"}, {"name": "limit_price", "type": "uint256"},
                      {"name": "nonce", "type": "uint256"}, {"name": "expiry", "type": "uint256"}],
        },
        "primaryType": "Order",
        "domain": {"name": "Clawback", "version": "1", "chainId": chain_id, "verifyingContract": CH},
        "message": dict(zip(("account", "market", "size", "limit_price", "nonce", "expiry"), order.as_tuple())),
    }


def test_keys_are_deterministic_and_valid():
    assert derive_key(1, 0) == derive_key(1, 0) and derive_key(1, 0) != derive_key(2, 0)
    k = derive_key(9, 3)
    assert Account.from_key(k.private_key).address == k.address


def test_signature_matches_eth_account_and_is_low_s():
    for i in range(5):
        k = derive_key(4, i)
        o = Order(k.address, i % 2, (-1) ** i * 10**18 * (i + 1), 50_000 * 10**18 + i, i, 2**40)
        sig = sign_digest(k.private_key, order_digest(o, domain_separator(31337, CH)))
        ref = Account.sign_message(encode_typed_data(full_message=typed(o)), k.private_key)
        assert sig == bytes(ref.signature)
        assert sig[64] in (27, 28) and int.from_bytes(sig[32:64], "big") <= SECP256K1_N // 2


def test_trade_calldata_matches_eth_abi():
    k = derive_key(1, 1)
    o = Order(k.address, 2, -3 * 10**17, 123 * 10**18, 77, 10**10)
    sig = bytes(range(65))
    ref = encode(["(address,uint256,int256,uint256,uint256,uint256)", "bytes", "uint256"], [o.as_tuple(), sig, 42])
    assert encode_trade_args(o, sig, 42) == ref


def test_fast_static_encoding_and_decoding_match_eth_abi():
    f = FunctionSpec("f", ("address", "int256", "bool"), ("(int256,int256,uint256,uint256)",), b"\x00" * 4, "view")
    a = derive_key(1, 2).address
    assert f.encode(a, -5, True) == b"\x00" * 4 + encode(["address", "int256", "bool"], [a, -5, True])
    assert f.decode(encode(["(int256,int256,uint256,uint256)"], [(-1, 2, 3, 4)])) == (-1, 2, 3, 4)
    g = FunctionSpec("g", (), ("int256",), b"\x00" * 4, "view")
    assert g.decode(encode(["int256"], [-7])) == -7
