"""Gap repair, driven by hand: what a subscriber hands on for each live
event, and which replays it asks for."""

import unittest
from decimal import Decimal

from connector_host_client import Event, Missing, Position, ReplayPage, wire
from connector_host_client.repair import GapRepair


def event(run, seq, family="orders.hl"):
    return Event(f"{family}.update", "update", 0, run, seq, {"seq": seq})


def page(events, complete=True, missing=False):
    nxt = events[-1].position if events else None
    return ReplayPage("orders.hl", events, nxt, complete, missing)


def drive(steps, answers):
    """Runs repair steps, answering each request from ``answers`` in turn;
    returns (requests asked, items handed on)."""
    asked = []
    try:
        request = next(steps)
        while True:
            asked.append(request)
            request = steps.send(answers.pop(0))
    except StopIteration as done:
        return asked, done.value


class GapRepairTest(unittest.TestCase):
    def test_events_in_order_pass_without_a_replay(self):
        repair = GapRepair()
        for seq in (1, 2, 3):
            asked, items = drive(repair.live(event(1, seq)), [])
            self.assertEqual((asked, items), ([], [event(1, seq)]))
        self.assertEqual(repair.positions["orders.hl"], Position(1, 3))

    def test_a_jump_is_filled_by_replay_and_duplicates_are_skipped(self):
        repair = GapRepair()
        drive(repair.live(event(1, 1)), [])
        asked, items = drive(repair.live(event(1, 4)), [page([event(1, 2), event(1, 3), event(1, 4)])])
        self.assertEqual([r.cmd for r in asked], ["replay"])
        self.assertEqual(asked[0].fields["after"], {"run": 1, "seq": 1})
        self.assertEqual([i.seq for i in items], [2, 3, 4])
        # The live event 4 came from the replay already; a repeat is skipped.
        self.assertEqual(drive(repair.live(event(1, 4)), []), ([], []))

    def test_a_new_run_is_checked_by_replay_and_pages_are_followed(self):
        repair = GapRepair()
        drive(repair.live(event(1, 5)), [])
        answers = [page([event(1, 6)], complete=False), page([event(2, 1)])]
        asked, items = drive(repair.live(event(2, 2)), answers)
        self.assertEqual([r.fields["after"] for r in asked], [{"run": 1, "seq": 5}, {"run": 1, "seq": 6}])
        self.assertEqual([i.position for i in items], [(1, 6), (2, 1), (2, 2)])

    def test_resumed_families_catch_up_first_and_missing_events_bring_a_snapshot(self):
        repair = GapRepair({"orders.hl": Position(1, 2)})
        snapshot = {"run": 3, "exchanges": []}
        answers = [page([event(3, 1)], missing=True), snapshot, page([event(3, 1)])]
        asked, items = drive(repair.start(), answers)
        self.assertEqual([r.cmd for r in asked], ["replay", "snapshot", "replay"])
        self.assertEqual(items, [Missing("orders.hl", Position(1, 2), snapshot), event(3, 1)])
        self.assertEqual(repair.positions["orders.hl"], Position(3, 1))

    def test_a_host_whose_history_was_replaced_is_followed_from_its_start(self):
        repair = GapRepair()
        drive(repair.live(event(5, 100)), [])
        # The host starts over at run 1 (its state folder was replaced): the
        # position is unknown to it, so everything it keeps follows a Missing.
        snapshot = {"run": 1, "exchanges": []}
        answers = [page([], missing=True), snapshot, page([event(1, 1), event(1, 2)])]
        asked, items = drive(repair.live(event(1, 2)), answers)
        self.assertEqual([r.cmd for r in asked], ["replay", "snapshot", "replay"])
        self.assertEqual(asked[2].fields["after"], None)
        self.assertEqual(items, [Missing("orders.hl", Position(5, 100), snapshot), event(1, 1), event(1, 2)])
        self.assertEqual(repair.positions["orders.hl"], Position(1, 2))

    def test_other_families_pass_as_they_come(self):
        repair = GapRepair()
        market = event(1, 9, family="market.hl")
        self.assertEqual(drive(repair.live(market), []), ([], [market]))
        self.assertNotIn("market.hl", repair.positions)

    def test_numbers_with_a_fraction_are_decimals(self):
        body = wire.loads(b'{"price": 65000.5, "seq": 3, "tiny": 1.25e-5}')
        self.assertEqual(body["price"], Decimal("65000.5"))
        self.assertEqual(body["tiny"], Decimal("0.0000125"))
        self.assertIsInstance(body["seq"], int)
        self.assertEqual(wire.dumps({"amount": Decimal("0.10")}), b'{"amount":"0.10"}')



class IdleCheckTest(unittest.TestCase):
    def test_an_idle_subscriber_finds_what_its_socket_missed(self):
        repair = GapRepair({"account.hl": None})
        drive(repair.live(event(1, 1)), [])
        # Nothing new for orders.hl; account.hl (resumed, nothing seen yet)
        # had an event published while the subscription was set up.
        account = event(1, 1, family="account.hl")
        answers = [
            ReplayPage("account.hl", [account], account.position, True, False),
            page([]),
        ]
        asked, items = drive(repair.idle(), answers)
        self.assertEqual(
            [(r.fields["family"], r.fields["after"]) for r in asked],
            [("account.hl", None), ("orders.hl", {"run": 1, "seq": 1})],
        )
        self.assertEqual(items, [account])
        self.assertEqual(repair.positions["account.hl"], Position(1, 1))
        # Once found, it is not handed on again when it comes live.
        self.assertEqual(drive(repair.live(account), []), ([], []))


if __name__ == "__main__":
    unittest.main()
