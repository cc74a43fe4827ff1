"""The room guard re-checks a room's members only when visibility may have changed since they
were checked, so the first push to a freshly joined room goes out at once."""
from realtime.guard import AccessEpoch, RoomGuard


class Manager:
    """Counts how often the guard looks at a room's members (each look means a re-check)."""

    def __init__(self):
        self.looks = 0

    def get_participants(self, namespace, room):
        self.looks += 1
        return []


def test_members_checked_on_joining_are_not_checked_again_until_the_epoch_moves():
    guard, manager = RoomGuard(app=None, epoch=AccessEpoch(None)), Manager()
    guard.joined("thread:1", guard.epoch.current())
    assert guard.members_to_skip(manager, "/", "thread:1") == [] and manager.looks == 0
    guard.epoch.bump()
    guard.members_to_skip(manager, "/", "thread:1")
    assert manager.looks == 1


def test_a_join_keeps_an_older_check_so_the_room_is_re_checked():
    guard, manager = RoomGuard(app=None, epoch=AccessEpoch(None)), Manager()
    guard.joined("thread:1", guard.epoch.current())
    guard.epoch.bump()
    guard.joined("thread:1", guard.epoch.current())  # a newcomer after visibility changed
    guard.members_to_skip(manager, "/", "thread:1")
    assert manager.looks == 1


def test_an_unknown_epoch_marks_nothing_checked():
    guard, manager = RoomGuard(app=None, epoch=AccessEpoch(None)), Manager()
    guard.joined("thread:1", -1)
    guard.members_to_skip(manager, "/", "thread:1")
    assert manager.looks == 1
