"""The ape implementation of `simulation.deployment.Backend` (used by `ape run deploy`, the
keeper and the ape test suite). Import it only inside an ape session (a script run by
`ape run`, a test run by pytest with ape's plugin, or after `ape.networks.parse_network_choice`).
"""
from __future__ import annotations

from typing import Any, Iterable, Optional


class ApeBackend:
    """Deploy and call the project's contracts through ape.

    deployer: the ape account that deploys and sends by default.
    signers: further ape accounts that may send (e.g. the new owner accepting ownership);
             ape's test accounts can always sign on a local network.
    """

    def __init__(self, deployer, project=None, signers: Optional[Iterable] = None):
        import ape

        self._ape = ape
        self.project = project if project is not None else ape.project
        self.sender = deployer
        self._signers = {a.address.lower(): a for a in (signers or [])}
        self._signers.setdefault(deployer.address.lower(), deployer)
        self._instances: dict = {}

    # -- required ---------------------------------------------------------------------------
    def deploy(self, contract_name: str, *args: Any) -> str:
        container = self.project.get_contract(contract_name)
        instance = self.sender.deploy(container, *args)
        self._instances[(instance.address.lower(), contract_name)] = instance
        return instance.address

    def transact(self, address: str, contract_name: str, fn_name: str, *args: Any, sender: Optional[str] = None):
        account = self._signer(sender) if sender is not None else self.sender
        return getattr(self.at(address, contract_name), fn_name)(*args, sender=account)

    def call(self, address: str, contract_name: str, fn_name: str, *args: Any):
        return getattr(self.at(address, contract_name), fn_name)(*args)

    def chain_id(self) -> int:
        return int(self._ape.chain.chain_id)

    def block_number(self) -> int:
        return int(self._ape.chain.blocks.height)

    # -- optional ---------------------------------------------------------------------------
    def deployer(self) -> str:
        return self.sender.address

    def can_sign(self, address: str) -> bool:
        try:
            self._signer(address)
            return True
        except LookupError:
            return False

    def get_code(self, address: str) -> bytes:
        code = self._ape.chain.provider.get_code(address)
        return bytes(code) if not isinstance(code, str) else bytes.fromhex(code.removeprefix("0x"))

    def compiler_info(self) -> dict:
        info = {}
        try:
            import vyper

            info["vyper"] = vyper.__version__
        except Exception:  # noqa: BLE001
            pass
        try:
            cfg = self._ape.config.get_config("vyper")
            evm = getattr(cfg, "evm_version", None) or (cfg.get("evm_version") if hasattr(cfg, "get") else None)
            if evm:
                info["evm_version"] = str(evm)
        except Exception:  # noqa: BLE001
            pass
        return info

    def abi(self, contract_name: str) -> list:
        ct = self.project.get_contract(contract_name).contract_type
        return [a.model_dump(mode="json", by_alias=True, exclude_none=True) for a in ct.abi]

    def has_function(self, contract_name: str, fn_name: str) -> bool:
        ct = self.project.get_contract(contract_name).contract_type
        return any(getattr(a, "name", None) == fn_name for a in ct.abi if getattr(a, "type", "") == "function")

    # -- helpers ----------------------------------------------------------------------------
    def at(self, address: str, contract_name: str):
        key = (str(address).lower(), contract_name)
        inst = self._instances.get(key)
        if inst is None:
            inst = self.project.get_contract(contract_name).at(address)
            self._instances[key] = inst
        return inst

    def _signer(self, address: str):
        acct = self._signers.get(str(address).lower())
        if acct is not None:
            return acct
        for a in self._ape.accounts.test_accounts:
            if a.address.lower() == str(address).lower():
                self._signers[a.address.lower()] = a
                return a
        raise LookupError(f"no ape account can sign for {address}")


def resolve_account(value, local: bool):
    """An ape account from an alias or TEST::<n>; on local networks the default is TEST::0."""
    import ape
    import click
    from ape.cli.choices import AccountAliasPromptChoice

    if value:
        return AccountAliasPromptChoice().convert(value, None, None)
    if local:
        return ape.accounts.test_accounts[0]
    raise click.UsageError("--account is required outside local networks (an ape account alias)")


def require_external_node(provider, job: str) -> None:
    """Refuse to `job` ("deploy", "keep") on a node that ape started for this one command.

    ape-foundry starts its own anvil when nothing answers at the configured host (including an
    APE_FOUNDRY_HOST that points at nothing); that chain is gone when the command ends, so a
    deployment there would leave a manifest for a chain that no longer exists, and a keeper there
    would watch an empty chain. Raises click.ClickException (one line, exit code 1)."""
    import os

    import click

    if getattr(provider, "process", None) is None:  # connected to a node someone else runs
        return
    host = os.environ.get("APE_FOUNDRY_HOST")
    configured = getattr(getattr(provider, "settings", None), "host", None)
    if host or (configured and configured != "auto"):
        where = f"{host} (APE_FOUNDRY_HOST)" if host else f"{configured} (ape-config.yaml foundry.host)"
        raise click.ClickException(f"nothing answers at {where}: start the node there first; "
                                   f"refusing to {job} on the throwaway anvil ape started in its place")
    raise click.ClickException(
        f"refusing to {job} on the private anvil ape started for this command (it stops when the command "
        f"ends): start anvil yourself and export APE_FOUNDRY_HOST=http://127.0.0.1:8545 "
        f"(README: Deploying to a devnet), or use --network ethereum:local:test for a throwaway check")
