# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title MockAggregator
@notice A Chainlink AggregatorV3-compatible price feed whose answer anyone may set, for tests,
        devnets and the simulation's oracle agent. Each `set_answer` starts a new round stamped
        with the block time.
"""

from ..interfaces import IAggregatorV3

implements: IAggregatorV3


event AnswerUpdated:
    current: indexed(int256)
    round_id: indexed(uint256)
    updated_at: uint256


decimals: public(uint8)
latest_answer: public(int256)
latest_round: public(uint80)
updated_at: public(uint256)


@deploy
def __init__(decimals_: uint8, initial_answer: int256):
    """
    @param decimals_ Decimals of the answer (Chainlink USD feeds use 8).
    @param initial_answer The first answer, stamped with the deployment block's time.
    """
    self.decimals = decimals_
    self._set(initial_answer)


@external
def set_answer(answer: int256):
    """
    @notice Publish a new answer stamped with the current block time.
    """
    self._set(answer)


@external
def set_answer_at(answer: int256, updated_at: uint256):
    """
    @notice Publish a new answer with an explicit timestamp (to make a feed look stale in tests).
    """
    self._set(answer)
    self.updated_at = updated_at


@external
@view
def latestRoundData() -> (uint80, int256, uint256, uint256, uint80):
    """
    @notice The latest round: (roundId, answer, startedAt, updatedAt, answeredInRound).
    """
    return (self.latest_round, self.latest_answer, self.updated_at, self.updated_at, self.latest_round)


@internal
def _set(answer: int256):
    self.latest_round += 1
    self.latest_answer = answer
    self.updated_at = block.timestamp
    log AnswerUpdated(current=answer, round_id=convert(self.latest_round, uint256), updated_at=block.timestamp)
