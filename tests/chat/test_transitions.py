"""The chat's state table: who may move it where (the API tests drive each move for real)."""

import pytest

from app.chat.models import ChatStatus
from app.chat.transitions import ChatAction, Mover, accepts_messages, move_for

S, A = ChatStatus, ChatAction


@pytest.mark.parametrize("status, action, mover, target", [
    (S.OPEN, A.CLOSE, Mover.SYSTEM, S.CLOSED),
    (S.OPEN, A.LOCK, Mover.SYSTEM, S.LOCKED),
    (S.CLOSED, A.LOCK, Mover.SYSTEM, S.LOCKED),
    (S.CLOSED, A.OPEN, Mover.ADMIN, S.OPEN),
    (S.LOCKED, A.OPEN, Mover.ADMIN, S.OPEN),
    (S.LOCKED, A.CLOSE, Mover.ADMIN, S.CLOSED),
    (S.OPEN, A.CLOSE, Mover.ADMIN, S.CLOSED),
])
def test_allowed_moves(status: ChatStatus, action: ChatAction, mover: Mover, target: ChatStatus):
    move = move_for(status, action, mover)
    assert move is not None and move.target is target


@pytest.mark.parametrize("status, action, mover", [
    (S.CLOSED, A.OPEN, Mover.SYSTEM),  # only an admin reopens
    (S.LOCKED, A.OPEN, Mover.SYSTEM),
    (S.LOCKED, A.CLOSE, Mover.SYSTEM),  # the auto-close never unlocks a disputed chat
    (S.OPEN, A.OPEN, Mover.ADMIN),
    (S.CLOSED, A.CLOSE, Mover.ADMIN),
    (S.LOCKED, A.LOCK, Mover.ADMIN),
])
def test_refused_moves(status: ChatStatus, action: ChatAction, mover: Mover):
    assert move_for(status, action, mover) is None


def test_only_an_open_chat_takes_messages():
    assert [s for s in ChatStatus if accepts_messages(s)] == [S.OPEN]
