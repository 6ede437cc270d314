"""The UAC side on a fake clock: dialogs from responses (§12.1.2), the ACK of each 2xx and
of its retransmissions (§13.2.2.4), forking, requests within the dialog (§12.2.1.1),
strict routers, CANCEL (§9.1), 481/408 (§12.2.1.2)."""

from __future__ import annotations

import pytest
from dialog_factory import (
    ALICE_CONTACT,
    ALICE_VIA,
    BOB_CONTACT,
    PROXY1,
    PROXY2,
    answer,
    invite,
    kinds,
    uac_layer,
)
from sippet import Auth, CSeq, MediaType, Message, Method, NameAddr, SentBy, Via
from sippet.dialogs import (
    AckRequired,
    DeliverResponse,
    DialogError,
    DialogId,
    DialogState,
    SendAck,
    SendRequest,
    StateChanged,
    TerminationReason,
    build_cancel,
)
from sippet.stack.routing import apply_strict_route, is_strict_route
from sippet.uri import URI


def sent_invite(**kwargs: object) -> Message:
    request = invite(record_route=None, **kwargs)  # type: ignore[arg-type]
    return request


def reply(request: Message, status: int, tag: str = "bob1", **kwargs: object) -> Message:
    """A response as it reaches Alice: Record-Route written by p1 then p2 (p2 on top)."""
    response = answer(request, status, to_tag=tag, **kwargs)  # type: ignore[arg-type]
    if 100 < status < 300:
        response.headers["record_route"] = [PROXY2, PROXY1]
    return response


def test_provisional_creates_early_dialog_with_reversed_route_set() -> None:
    layer = uac_layer()
    request = sent_invite()
    layer.send_invite(request, 0.0)
    trying = answer(request, 100, to_tag=None)
    assert layer.receive_response(trying, 0.1) == [DeliverResponse(trying, None)]
    ringing = reply(request, 180)
    dialog_id = DialogId(request.headers["call_id"], "1928301774", "bob1")
    assert layer.receive_response(ringing, 0.2) == [
        StateChanged(dialog_id, DialogState.EARLY, None),
        DeliverResponse(ringing, dialog_id),
    ]
    dialog = layer.dialog(dialog_id)
    assert dialog is not None and dialog.is_uac
    # §12.1.2: Record-Route reversed; remote target from Contact; local CSeq the INVITE's.
    assert dialog.route_set == (PROXY1, PROXY2)
    assert dialog.remote_target == BOB_CONTACT.uri
    assert dialog.local_seq == 314159 and dialog.remote_seq is None
    # A 1xx without a tag makes no dialog.
    untagged = answer(request, 183, to_tag=None)
    assert layer.receive_response(untagged, 0.3) == [DeliverResponse(untagged, None)]
    assert len(layer) == 1


def test_2xx_confirms_and_is_acked_again_for_each_retransmission() -> None:
    layer = uac_layer()
    credentials = [Auth("Digest", {"username": "alice", "response": "x"})]
    request = sent_invite(extra={"authorization": credentials})
    layer.send_invite(request, 0.0)
    dialog_id = layer.receive_response(reply(request, 180), 0.1)[0].dialog_id
    ok = reply(request, 200)
    actions = layer.receive_response(ok, 1.0)
    assert kinds(actions) == ["StateChanged", "DeliverResponse", "SendAck"]
    assert actions[0] == StateChanged(dialog_id, DialogState.CONFIRMED, None)
    ack = actions[2].ack
    # §13.2.2.4: built as a request in the dialog, CSeq number of the INVITE, credentials.
    assert ack.start_line.method == Method.ACK
    assert ack.start_line.request_uri == BOB_CONTACT.uri
    assert ack.headers["route"] == [PROXY1, PROXY2]
    assert ack.headers["cseq"] == CSeq(314159, Method.ACK)
    assert ack.headers["to"].params["tag"] == "bob1"
    # §12.2.1.1: From is the local URI and tag (the dialog keeps no display name).
    assert ack.headers["from"] == NameAddr("", request.headers["from"].uri, {"tag": "1928301774"})
    assert ack.headers["authorization"] == credentials
    assert ack.headers["via"][0].branch != request.headers["via"][0].branch
    assert ack.headers["max_forwards"] == 70
    assert ack.body == b""
    # A retransmitted 2xx gets the very same ACK, and is not delivered again.
    assert layer.receive_response(ok, 1.5) == [SendAck(ack, dialog_id)]
    assert layer.receive_response(ok, 2.5) == [SendAck(ack, dialog_id)]
    # 64*T1 after the first 2xx the INVITE is forgotten; only the dialog stays.
    assert layer.next_deadline() == 33.0
    assert layer.handle_timers(33.0) == []
    assert layer.pending_invites == 0 and len(layer) == 1
    assert layer.receive_response(ok, 40.0) == [DeliverResponse(ok, None)]


def test_delayed_offer_waits_for_create_ack_with_the_answer() -> None:
    layer = uac_layer()
    request = sent_invite()
    layer.send_invite(request, 0.0, auto_ack=False)
    ok = reply(request, 200)
    actions = layer.receive_response(ok, 1.0)
    dialog_id = actions[0].dialog_id
    assert actions[-1] == AckRequired(ok, dialog_id)
    assert layer.receive_response(ok, 1.5) == []  # no ACK built yet: nothing to resend
    sdp = MediaType(("application", "sdp"), {})
    ack = layer.create_ack(dialog_id, 1.6, body=b"v=0\r\n", content_type=sdp)
    assert ack.body == b"v=0\r\n" and ack.headers["content_type"] == sdp
    assert layer.receive_response(ok, 2.0) == [SendAck(ack, dialog_id)]
    with pytest.raises(DialogError) as caught:
        layer.create_ack(dialog_id, 2.1)
    assert caught.value.reason == "no_pending_ack"


def test_forked_invite_keeps_first_2xx_and_byes_the_second() -> None:
    layer = uac_layer()
    request = sent_invite()
    layer.send_invite(request, 0.0)
    early_a = layer.receive_response(reply(request, 180, "forkA"), 0.1)[0].dialog_id
    early_b = layer.receive_response(reply(request, 180, "forkB"), 0.2)[0].dialog_id
    early_c = layer.receive_response(reply(request, 183, "forkC"), 0.3)[0].dialog_id
    assert len(layer) == 3
    layer.receive_response(reply(request, 200, "forkA"), 1.0)
    second = reply(request, 200, "forkB")
    actions = layer.receive_response(second, 1.2)
    assert kinds(actions) == ["StateChanged", "DeliverResponse", "SendAck", "SendRequest"]
    assert actions[0] == StateChanged(early_b, DialogState.TERMINATED, TerminationReason.EXTRA_FORK)
    ack, bye = actions[2].ack, actions[3].request
    assert ack.headers["to"].params["tag"] == "forkB"
    assert bye.start_line.method == Method.BYE
    assert bye.headers["to"].params["tag"] == "forkB"
    assert bye.headers["cseq"] == CSeq(314160, Method.BYE)
    # Its 2xx retransmitted: the same ACK, no second BYE.
    assert layer.receive_response(second, 1.7) == [SendAck(ack, early_b)]
    # A 2xx from a fork never seen before is treated the same way.
    late = layer.receive_response(reply(request, 200, "forkD"), 2.0)
    assert kinds(late) == ["DeliverResponse", "SendAck", "SendRequest"]
    # §13.2.2.4: 64*T1 after the first 2xx, unconfirmed early dialogs end.
    assert layer.handle_timers(33.0) == [
        StateChanged(early_c, DialogState.TERMINATED, TerminationReason.UNCONFIRMED)
    ]
    assert [d.id for d in layer] == [early_a]
    assert layer.pending_invites == 0 and layer.next_deadline() is None


def test_final_failure_ends_every_early_dialog() -> None:
    layer = uac_layer()
    request = sent_invite()
    layer.send_invite(request, 0.0)
    a = layer.receive_response(reply(request, 180, "a"), 0.1)[0].dialog_id
    b = layer.receive_response(reply(request, 180, "b"), 0.1)[0].dialog_id
    busy = answer(request, 486, to_tag="a")
    assert layer.receive_response(busy, 1.0) == [
        StateChanged(a, DialogState.TERMINATED, TerminationReason.REJECTED),
        StateChanged(b, DialogState.TERMINATED, TerminationReason.REJECTED),
        DeliverResponse(busy, None),
    ]
    assert len(layer) == 0 and layer.pending_invites == 0 and layer.next_deadline() is None


def test_cancel_is_built_from_the_invite_and_487_ends_early_dialog() -> None:
    request = sent_invite(extra={"route": [PROXY1], "require": ["100rel"]})
    cancel = build_cancel(request)
    # §9.1: same Request-URI, Call-ID, To, From, CSeq number; one Via, same branch; Route.
    assert cancel.start_line.method == Method.CANCEL
    assert cancel.start_line.request_uri == request.start_line.request_uri
    for key in ("call_id", "to", "from", "route"):
        assert cancel.headers[key] == request.headers[key]
    assert cancel.headers["via"] == [request.headers["via"][0]]
    assert cancel.headers["cseq"] == CSeq(314159, Method.CANCEL)
    assert "require" not in cancel.headers and "contact" not in cancel.headers
    assert cancel.body == b""
    with pytest.raises(DialogError):
        build_cancel(cancel)

    layer = uac_layer()
    layer.send_invite(request, 0.0)
    early = layer.receive_response(reply(request, 180), 0.1)[0].dialog_id
    terminated = answer(request, 487, to_tag="bob1")
    assert layer.receive_response(terminated, 2.0)[0] == StateChanged(
        early, DialogState.TERMINATED, TerminationReason.CANCELLED
    )


def test_requests_in_dialog_advance_cseq_and_bye_ends_it() -> None:
    layer = uac_layer()
    request = sent_invite()
    layer.send_invite(request, 0.0)
    dialog_id = layer.receive_response(reply(request, 200), 0.1)[0].dialog_id
    info = layer.create_request(dialog_id, Method.INFO, 1.0)
    assert info.headers["cseq"] == CSeq(314160, Method.INFO)
    assert "contact" not in info.headers
    update = layer.create_request(dialog_id, "UPDATE", 1.1)
    assert update.headers["cseq"] == CSeq(314161, "UPDATE")
    assert update.headers["contact"] == [ALICE_CONTACT]
    # The INVITE's Via supplies sent-by and protocol; the branch is new.
    assert update.headers["via"][0].sent_by == request.headers["via"][0].sent_by
    assert update.headers["via"][0].branch != info.headers["via"][0].branch
    refreshed = NameAddr("", URI("sip", "bob", host="203.0.113.9"), {})
    ok = update.to_response(200)
    ok.headers["contact"] = [refreshed]
    layer.receive_response(ok, 1.2)
    dialog = layer.dialog(dialog_id)
    assert dialog is not None and dialog.remote_target == refreshed.uri
    bye = layer.create_request(dialog_id, Method.BYE, 2.0)
    assert bye.start_line.request_uri == refreshed.uri
    assert bye.headers["cseq"] == CSeq(314162, Method.BYE)
    assert layer.dialog(dialog_id) is None and len(layer) == 0
    with pytest.raises(DialogError) as caught:
        layer.create_request(dialog_id, Method.INFO, 2.1)
    assert caught.value.reason == "no_dialog"


def test_ack_and_cancel_are_not_built_by_create_request() -> None:
    layer = uac_layer()
    request = sent_invite()
    layer.send_invite(request, 0.0)
    dialog_id = layer.receive_response(reply(request, 200), 0.1)[0].dialog_id
    for method in (Method.ACK, Method.CANCEL):
        with pytest.raises(DialogError) as caught:
            layer.create_request(dialog_id, method, 1.0)
        assert caught.value.reason == "ack_method"


def test_strict_router_first_in_route_set() -> None:
    layer = uac_layer()
    request = sent_invite()
    layer.send_invite(request, 0.0)
    strict = NameAddr(
        "", URI("sip", host="strict.example.com", parameters={"method": "INVITE"}), {}
    )
    ok = answer(request, 200, to_tag="bob1")
    ok.headers["record_route"] = [PROXY2, strict]  # reversed: strict router first
    dialog_id = layer.receive_response(ok, 0.1)[0].dialog_id
    bye = layer.create_request(dialog_id, Method.BYE, 1.0)
    # The dialog builds the loose form (remote target, route set as is); the stack's send
    # applies the strict-router rewrite, once.
    assert bye.start_line.request_uri == BOB_CONTACT.uri
    assert bye.headers["route"] == [strict, PROXY2]
    assert is_strict_route(bye)
    sent = apply_strict_route(bye)
    # §12.2.1.1: the strict router's URI (without the method parameter) is the
    # Request-URI; the remote target goes last in Route.
    assert sent.start_line.request_uri == URI("sip", host="strict.example.com")
    assert sent.headers["route"] == [PROXY2, NameAddr("", BOB_CONTACT.uri, {})]


def test_481_or_408_to_a_request_in_dialog_ends_it() -> None:
    for status in (481, 408):
        layer = uac_layer()
        request = sent_invite()
        layer.send_invite(request, 0.0)
        dialog_id = layer.receive_response(reply(request, 200), 0.1)[0].dialog_id
        info = layer.create_request(dialog_id, Method.INFO, 1.0)
        gone = info.to_response(status)
        assert layer.receive_response(gone, 1.1) == [
            StateChanged(dialog_id, DialogState.TERMINATED, TerminationReason.GONE),
            DeliverResponse(gone, None),
        ]


def test_request_failed_ends_dialog() -> None:
    layer = uac_layer()
    request = sent_invite()
    layer.send_invite(request, 0.0)
    dialog_id = layer.receive_response(reply(request, 200), 0.1)[0].dialog_id
    info = layer.create_request(dialog_id, Method.INFO, 1.0)
    assert layer.request_failed(info, 33.0) == [
        StateChanged(dialog_id, DialogState.TERMINATED, TerminationReason.GONE)
    ]


def test_failed_initial_invite_ends_its_early_dialogs() -> None:
    layer = uac_layer()
    request = sent_invite()
    layer.send_invite(request, 0.0)
    early = layer.receive_response(reply(request, 180), 0.1)[0].dialog_id
    assert layer.request_failed(request, 32.0) == [
        StateChanged(early, DialogState.TERMINATED, TerminationReason.GONE)
    ]
    assert layer.pending_invites == 0 and layer.next_deadline() is None


def test_reinvite_2xx_refreshes_target_and_is_acked() -> None:
    layer = uac_layer()
    request = sent_invite()
    layer.send_invite(request, 0.0)
    dialog_id = layer.receive_response(reply(request, 200), 0.1)[0].dialog_id
    layer.handle_timers(40.0)
    reinvite = layer.create_request(dialog_id, Method.INVITE, 41.0)
    ok = reinvite.to_response(200)
    moved = NameAddr("", URI("sip", "bob", host="203.0.113.10"), {})
    ok.headers["contact"] = [moved]
    actions = layer.receive_response(ok, 41.2)
    assert kinds(actions) == ["DeliverResponse", "SendAck"]
    ack = actions[1].ack
    assert ack.headers["cseq"] == CSeq(reinvite.headers["cseq"].seq, Method.ACK)
    assert ack.start_line.request_uri == moved.uri
    assert layer.receive_response(ok, 41.7) == [SendAck(ack, dialog_id)]


def test_send_invite_checks_and_bounds() -> None:
    layer = uac_layer(max_dialogs=1)
    with pytest.raises(DialogError) as caught:
        layer.send_invite(sent_invite(from_tag=""), 0.0)
    assert caught.value.reason == "invalid_request"
    layer.send_invite(sent_invite(), 0.0)
    with pytest.raises(DialogError) as caught:
        layer.send_invite(sent_invite(call_id="x@y"), 0.0)
    assert caught.value.reason == "too_many_dialogs"


def test_2xx_past_max_dialogs_is_acked_then_byed() -> None:
    layer = uac_layer(max_dialogs=1)
    request = sent_invite()
    layer.send_invite(request, 0.0)
    # The INVITE's place goes to its first dialog (an early one, fork A).
    early = layer.receive_response(reply(request, 180, "forkA"), 0.1)[0].dialog_id
    # No place for fork B: its 1xx makes no dialog, its 2xx is acknowledged and BYEd.
    ringing_b = reply(request, 180, "forkB")
    assert layer.receive_response(ringing_b, 0.2) == [DeliverResponse(ringing_b, None)]
    actions = layer.receive_response(reply(request, 200, "forkB"), 0.3)
    assert kinds(actions) == ["DeliverResponse", "SendAck", "SendRequest"]
    assert isinstance(actions[2], SendRequest)
    assert actions[2].request.headers["to"].params["tag"] == "forkB"
    assert [d.id for d in layer] == [early]
    # A fork A 2xx then confirms the kept dialog.
    assert layer.receive_response(reply(request, 200, "forkA"), 0.4)[0] == StateChanged(
        early, DialogState.CONFIRMED, None
    )


def test_uac_via_template_is_the_invites() -> None:
    layer = uac_layer()
    request = sent_invite()
    request.headers["via"] = [
        Via((2, 0), "TCP", SentBy("198.51.100.1", 5070), {"branch": "z9hG4bKx", "rport": None})
    ]
    layer.send_invite(request, 0.0)
    dialog_id = layer.receive_response(reply(request, 200), 0.1)[0].dialog_id
    # The INVITE's protocol, sent-by and rport, without its branch.
    dialog = layer.dialog(dialog_id)
    assert dialog is not None
    assert dialog.via == Via((2, 0), "TCP", SentBy("198.51.100.1", 5070), {"rport": None})
    bye = layer.create_request(dialog_id, Method.BYE, 1.0)
    top = bye.headers["via"][0]
    assert (top.protocol, top.sent_by) == ("TCP", SentBy("198.51.100.1", 5070))
    assert "rport" in top.params and top.branch != "z9hG4bKx"


def test_uac_via_like_the_layers_is_not_copied() -> None:
    layer = uac_layer()
    request = sent_invite()
    layer.send_invite(request, 0.0)
    dialog_id = layer.receive_response(reply(request, 200), 0.1)[0].dialog_id
    dialog = layer.dialog(dialog_id)
    assert dialog is not None and dialog.via is None
    top = layer.create_request(dialog_id, Method.BYE, 1.0).headers["via"][0]
    assert top.sent_by == ALICE_VIA.sent_by
