"""The UAS side on a fake clock: dialog creation (§12.1.1), 2xx retransmission until the
ACK (§13.3.1.4), the BYE when none comes, in-dialog checks (§12.2.2), CANCEL (§9.2)."""

from __future__ import annotations

import random

import pytest
from dialog_factory import (
    ALICE_CONTACT,
    BOB_CONTACT,
    BOB_VIA,
    PROXY1,
    PROXY2,
    answer,
    from_caller,
    invite,
    kinds,
    uas_layer,
)
from sippet import CSeq, Message, Method, NameAddr, RetryAfter
from sippet.dialogs import (
    DeliverRequest,
    DialogError,
    DialogId,
    DialogLayer,
    DialogState,
    SendRequest,
    SendResponse,
    StateChanged,
    TerminationReason,
    build_cancel,
)
from sippet.uri import URI

BOB_TAG = "a6c85cf"


def in_dialog(
    initial: Message, method: Method | str, seq: int, *, contact: NameAddr | None = None
) -> Message:
    """A request Alice sends in the dialog Bob answered with tag ``BOB_TAG``."""
    return from_caller(initial, method, seq, BOB_TAG, contact=contact)


def confirmed(layer: DialogLayer, request: Message | None = None) -> tuple[Message, DialogId]:
    request = request or invite(record_route=[PROXY1, PROXY2])
    assert layer.receive_request(request, 0.0) == [DeliverRequest(request, None)]
    actions = layer.send_response(answer(request, 200), 0.0)
    dialog_id = actions[0].dialog_id
    return request, dialog_id


def test_initial_invite_creates_early_then_confirmed_dialog() -> None:
    layer = uas_layer()
    request = invite(record_route=[PROXY1, PROXY2])
    assert layer.receive_request(request, 0.0) == [DeliverRequest(request, None)]
    assert len(layer) == 0 and layer.pending_invites == 1

    ringing = answer(request, 180)
    dialog_id = DialogId(request.headers["call_id"], BOB_TAG, "1928301774")
    assert layer.send_response(ringing, 0.0) == [
        StateChanged(dialog_id, DialogState.EARLY, None),
        SendResponse(ringing, dialog_id),
    ]
    dialog = layer.dialog(dialog_id)
    assert dialog is not None and dialog.state is DialogState.EARLY
    # §12.1.1: route set in Record-Route order; remote target from Contact; remote CSeq.
    assert dialog.route_set == (PROXY1, PROXY2)
    assert dialog.remote_target == ALICE_CONTACT.uri
    assert dialog.remote_seq == 314159 and dialog.local_seq is None
    assert dialog.local_uri == ringing.headers["to"].uri
    assert dialog.remote_uri == request.headers["from"].uri
    assert dialog.local == NameAddr("", ringing.headers["to"].uri, {"tag": BOB_TAG})
    assert dialog.secure is False and dialog.is_uac is False

    ok = answer(request, 200)
    assert layer.send_response(ok, 0.0) == [
        StateChanged(dialog_id, DialogState.CONFIRMED, None),
        SendResponse(ok, dialog_id),
    ]
    assert dialog.state is DialogState.CONFIRMED
    assert layer.pending_invites == 0 and len(layer) == 1


def test_2xx_retransmitted_t1_doubling_to_t2_until_ack() -> None:
    layer = uas_layer()
    request = invite()
    layer.receive_request(request, 0.0)
    ok = answer(request, 200)
    dialog_id = layer.send_response(ok, 0.0)[0].dialog_id
    sent_at = []
    now = 0.0
    while (deadline := layer.next_deadline()) is not None and deadline < 20.0:
        now = deadline
        actions = layer.handle_timers(now)
        assert actions == [SendResponse(ok, dialog_id)]
        sent_at.append(now)
    # §13.3.1.4: intervals T1, 2T1, 4T1, then T2 (4 s).
    assert sent_at == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5]
    ack = in_dialog(request, Method.ACK, 314159)
    assert layer.receive_request(ack, 19.7) == [DeliverRequest(ack, dialog_id)]
    assert layer.next_deadline() is None
    # A retransmitted ACK is absorbed; the dialog stays.
    assert layer.receive_request(ack, 19.8) == []
    assert len(layer) == 1


def test_late_timer_call_fires_each_retransmission_at_its_deadline() -> None:
    layer = uas_layer()
    request = invite()
    layer.receive_request(request, 0.0)
    layer.send_response(answer(request, 200), 0.0)
    # Woken late at 4.0: the retransmissions due at 0.5, 1.5 and 3.5 all go out.
    assert kinds(layer.handle_timers(4.0)) == ["SendResponse"] * 3
    assert layer.next_deadline() == 7.5


def test_no_ack_in_64_t1_ends_dialog_with_bye() -> None:
    layer = uas_layer()
    request, dialog_id = confirmed(layer)
    actions = layer.handle_timers(100.0)
    # Retransmissions up to 31.5, then at 32 (64*T1) the dialog ends with a BYE.
    assert kinds(actions) == ["SendResponse"] * 10 + ["StateChanged", "SendRequest"]
    assert actions[-2] == StateChanged(dialog_id, DialogState.TERMINATED, TerminationReason.NO_ACK)
    bye = actions[-1]
    assert isinstance(bye, SendRequest)
    message = bye.request
    assert message.start_line.method == Method.BYE
    # §12.2.1.1: Request-URI the remote target, Route the route set, From/To swapped.
    assert message.start_line.request_uri == ALICE_CONTACT.uri
    assert message.headers["route"] == [PROXY1, PROXY2]
    assert message.headers["to"] == NameAddr("", request.headers["from"].uri, {"tag": "1928301774"})
    assert message.headers["from"].params["tag"] == BOB_TAG
    assert message.headers["cseq"] == CSeq(1, Method.BYE)
    assert message.headers["via"][0].sent_by.host == "192.0.2.4"
    assert message.headers["via"][0].branch.startswith("z9hG4bK")
    assert len(layer) == 0 and layer.next_deadline() is None


def test_ack_after_give_up_is_dropped() -> None:
    layer = uas_layer()
    request, _ = confirmed(layer)
    layer.handle_timers(40.0)
    assert layer.receive_request(in_dialog(request, Method.ACK, 314159), 41.0) == []


def test_bye_ends_dialog_and_leaves_nothing() -> None:
    layer = uas_layer()
    request, dialog_id = confirmed(layer)
    layer.receive_request(in_dialog(request, Method.ACK, 314159), 0.1)
    bye = in_dialog(request, Method.BYE, 314160)
    assert layer.receive_request(bye, 5.0) == [
        StateChanged(dialog_id, DialogState.TERMINATED, TerminationReason.BYE),
        DeliverRequest(bye, dialog_id),
    ]
    assert len(layer) == 0 and layer.pending_invites == 0 and layer.next_deadline() is None
    # The 200 for the BYE passes through without a dialog.
    ok = bye.to_response(200)
    assert layer.send_response(ok, 5.0) == [SendResponse(ok, None)]


def test_bye_before_ack_stops_retransmissions() -> None:
    layer = uas_layer()
    request, _ = confirmed(layer)
    layer.receive_request(in_dialog(request, Method.BYE, 314160), 0.2)
    assert layer.next_deadline() is None
    assert layer.handle_timers(50.0) == []


def test_unknown_dialog_gets_481_and_lower_cseq_500() -> None:
    layer = uas_layer()
    request, dialog_id = confirmed(layer)
    stranger = in_dialog(request, Method.INFO, 314160)
    stranger.headers["call_id"] = "other@atlanta.com"
    [reply] = layer.receive_request(stranger, 1.0)
    assert isinstance(reply, SendResponse) and reply.response.start_line.status_code == 481
    assert reply.response.headers["call_id"] == "other@atlanta.com"
    # §12.2.2: lower than the remote CSeq -> 500; the dialog is untouched.
    old = in_dialog(request, Method.INFO, 314158)
    [reply] = layer.receive_request(old, 1.0)
    assert isinstance(reply, SendResponse) and reply.response.start_line.status_code == 500
    newer = in_dialog(request, Method.INFO, 314170)
    assert layer.receive_request(newer, 1.0) == [DeliverRequest(newer, dialog_id)]
    dialog = layer.dialog(dialog_id)
    assert dialog is not None and dialog.remote_seq == 314170
    [reply] = layer.receive_request(in_dialog(request, Method.INFO, 314165), 1.0)
    assert isinstance(reply, SendResponse) and reply.response.start_line.status_code == 500


def test_reinvite_refreshes_target_and_gets_retransmitted_2xx() -> None:
    layer = uas_layer()
    request, dialog_id = confirmed(layer)
    layer.receive_request(in_dialog(request, Method.ACK, 314159), 0.1)
    moved = NameAddr("", URI("sip", "alice", host="198.51.100.7"), {})
    reinvite = in_dialog(request, Method.INVITE, 314160, contact=moved)
    assert layer.receive_request(reinvite, 1.0) == [DeliverRequest(reinvite, dialog_id)]
    dialog = layer.dialog(dialog_id)
    assert dialog is not None and dialog.remote_target == moved.uri
    ok = reinvite.to_response(200)
    assert layer.send_response(ok, 1.0) == [SendResponse(ok, dialog_id)]
    assert layer.handle_timers(1.5) == [SendResponse(ok, dialog_id)]
    # The ACK of the first INVITE does not stop the re-INVITE's 2xx; its own ACK does.
    assert layer.receive_request(in_dialog(request, Method.ACK, 314159), 1.6) == []
    ack = in_dialog(request, Method.ACK, 314160)
    assert layer.receive_request(ack, 1.7) == [DeliverRequest(ack, dialog_id)]
    assert layer.next_deadline() is None


def test_overlapping_reinvite_gets_500_with_retry_after() -> None:
    layer = DialogLayer(BOB_VIA, rng=random.Random(7))
    request, _ = confirmed(layer)
    first = in_dialog(request, Method.INVITE, 314160)
    layer.receive_request(first, 1.0)
    second = in_dialog(request, Method.INVITE, 314161)
    [reply] = layer.receive_request(second, 1.1)
    assert isinstance(reply, SendResponse)
    assert reply.response.start_line.status_code == 500
    retry = reply.response.headers["retry_after"]
    assert isinstance(retry, RetryAfter) and 0 <= retry.seconds <= 10


def test_reinvite_while_own_reinvite_pending_gets_491() -> None:
    layer = uas_layer()
    request, dialog_id = confirmed(layer)
    layer.receive_request(in_dialog(request, Method.ACK, 314159), 0.1)
    ours = layer.create_request(dialog_id, Method.INVITE, 1.0)
    assert ours.headers["cseq"] == CSeq(1, Method.INVITE)
    assert ours.headers["contact"] == [BOB_CONTACT]
    with pytest.raises(DialogError) as caught:
        layer.create_request(dialog_id, Method.INVITE, 1.0)
    assert caught.value.reason == "invite_pending"
    [reply] = layer.receive_request(in_dialog(request, Method.INVITE, 314160), 1.1)
    assert isinstance(reply, SendResponse) and reply.response.start_line.status_code == 491
    # Our re-INVITE fails with 491 too: the dialog stays, and a new one may be sent.
    assert layer.receive_response(ours.to_response(491), 1.2)[0].dialog_id == dialog_id
    assert layer.create_request(dialog_id, Method.INVITE, 3.0).headers["cseq"].seq == 2


def test_cancel_gets_200_and_invite_487_with_the_early_tag() -> None:
    layer = uas_layer()
    request = invite()
    layer.receive_request(request, 0.0)
    ringing = answer(request, 180, to_tag="ring1")
    dialog_id = layer.send_response(ringing, 0.0)[0].dialog_id
    cancel = build_cancel(request)
    actions = layer.receive_request(cancel, 2.0)
    assert kinds(actions) == ["SendResponse", "SendResponse", "StateChanged", "DeliverRequest"]
    ok, terminated = actions[0], actions[1]
    assert ok.response.start_line.status_code == 200
    assert ok.response.headers["cseq"] == CSeq(314159, Method.CANCEL)
    assert terminated.response.start_line.status_code == 487
    assert terminated.response.headers["cseq"] == CSeq(314159, Method.INVITE)
    assert terminated.response.headers["to"].params["tag"] == "ring1"
    assert actions[2] == StateChanged(
        dialog_id, DialogState.TERMINATED, TerminationReason.CANCELLED
    )
    assert len(layer) == 0 and layer.pending_invites == 0 and layer.next_deadline() is None


def test_cancel_matching_nothing_gets_481() -> None:
    layer = uas_layer()
    request = invite()
    layer.receive_request(request, 0.0)
    other_branch = build_cancel(invite())  # same Call-ID, From tag and CSeq, other branch
    [reply] = layer.receive_request(other_branch, 1.0)
    assert isinstance(reply, SendResponse) and reply.response.start_line.status_code == 481
    assert layer.pending_invites == 1


def test_bye_in_early_dialog_gets_487_for_the_invite() -> None:
    layer = uas_layer()
    request = invite()
    layer.receive_request(request, 0.0)
    layer.send_response(answer(request, 183), 0.0)
    actions = layer.receive_request(in_dialog(request, Method.BYE, 314160), 1.0)
    assert kinds(actions) == ["SendResponse", "StateChanged", "DeliverRequest"]
    assert actions[0].response.start_line.status_code == 487
    assert len(layer) == 0 and layer.pending_invites == 0


def test_rejected_invite_ends_early_dialog() -> None:
    layer = uas_layer()
    request = invite()
    layer.receive_request(request, 0.0)
    dialog_id = layer.send_response(answer(request, 180), 0.0)[0].dialog_id
    busy = answer(request, 486)
    assert layer.send_response(busy, 1.0) == [
        SendResponse(busy, None),
        StateChanged(dialog_id, DialogState.TERMINATED, TerminationReason.REJECTED),
    ]
    assert len(layer) == 0 and layer.pending_invites == 0


def test_unanswered_invite_is_forgotten_after_timeout() -> None:
    layer = uas_layer(pending_invite_timeout=60.0)
    request = invite()
    layer.receive_request(request, 0.0)
    dialog_id = layer.send_response(answer(request, 180), 0.0)[0].dialog_id
    assert layer.next_deadline() == 60.0
    assert layer.handle_timers(60.0) == [
        StateChanged(dialog_id, DialogState.TERMINATED, TerminationReason.UNCONFIRMED)
    ]
    assert len(layer) == 0 and layer.pending_invites == 0


def test_max_dialogs_answers_503_with_retry_after() -> None:
    layer = uas_layer(max_dialogs=1, busy_retry_after=9)
    confirmed(layer)
    second = invite(call_id="second@atlanta.com")
    [reply] = layer.receive_request(second, 1.0)
    assert isinstance(reply, SendResponse) and reply.response.start_line.status_code == 503
    assert reply.response.headers["retry_after"] == RetryAfter(9, None, {})
    assert layer.pending_invites == 0


def test_tagless_2xx_is_the_applications_mistake() -> None:
    layer = uas_layer()
    request = invite()
    layer.receive_request(request, 0.0)
    with pytest.raises(DialogError) as caught:
        layer.send_response(answer(request, 200, to_tag=None), 0.0)
    assert caught.value.reason == "invalid_response"


def test_secure_for_sips_over_tls() -> None:
    layer = uas_layer()
    request = invite(uri=URI("sips", "bob", host="biloxi.com"), protocol="TLS")
    _, dialog_id = confirmed(layer, request)
    dialog = layer.dialog(dialog_id)
    assert dialog is not None and dialog.secure is True


def test_rfc2543_caller_without_from_tag() -> None:
    layer = uas_layer()
    request = invite(from_tag="")
    request.headers["from"] = NameAddr("", URI("sip", "alice", host="atlanta.com"), {})
    _, dialog_id = confirmed(layer, request)
    assert dialog_id.remote_tag == ""
    ack = in_dialog(request, Method.ACK, 314159)
    assert layer.receive_request(ack, 0.1) == [DeliverRequest(ack, dialog_id)]
