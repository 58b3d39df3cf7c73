def test_probe(vault, funded, staker, chain, token):
    print("pending", chain.pending_timestamp, "head", chain.blocks.head.timestamp)
    tx = vault.deposit(100, staker, sender=staker)
    print("tx ts", tx.timestamp, "head", chain.blocks.head.timestamp, "pending", chain.pending_timestamp)
    chain.pending_timestamp += 1000
    print("pending now", chain.pending_timestamp)
    tx = vault.request_redeem(10, sender=staker)
    print("tx ts", tx.timestamp, vault.redeem_request(staker))
    print(tx.events)
    print(tx.gas_used)
    s = chain.snapshot(); print("snap", s)
