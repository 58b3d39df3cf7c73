"""Raw-transaction sender for tests and benchmarks that set up hundreds of accounts."""


class FastSender:
    """Sign and send raw transactions, skipping ape's per-transaction dry run and debug-log
    trace: the crowd set-up is hundreds of transactions. Their success is checked through
    the open interest."""

    def __init__(self, chain):
        self.chain = chain
        self.web3 = chain.provider.web3
        self.nonces = {}
        self.last = None

    def send(self, account, to, data=b"", value=0, gas=500_000):
        address = account.address
        if address not in self.nonces:
            self.nonces[address] = self.web3.eth.get_transaction_count(address, "pending")
        txn = {
            "type": 2,
            "chainId": self.chain.chain_id,
            "nonce": self.nonces[address],
            "to": to,
            "value": value,
            "data": data,
            "gas": gas,
            "maxFeePerGas": 2 * self.chain.provider.base_fee + 1,
            "maxPriorityFeePerGas": 1,
        }
        signed = self.web3.eth.account.sign_transaction(txn, account.private_key)
        self.last = self.web3.eth.send_raw_transaction(signed.raw_transaction)
        self.nonces[address] += 1

    def call(self, account, contract, method, *args):
        self.send(account, contract.address, getattr(contract, method).encode_input(*args))

    def wait(self):
        if self.last is not None:
            self.web3.eth.wait_for_transaction_receipt(self.last)
