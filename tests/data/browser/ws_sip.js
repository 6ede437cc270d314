"use strict";

(function () {
  const params = new URLSearchParams(window.location.search);
  const url = params.get("url");
  const transport = url.startsWith("wss:") ? "WSS" : "WS";
  const host = Math.random().toString(36).slice(2, 12) + ".invalid";
  const callId = Math.random().toString(36).slice(2) + "@" + host;
  const fromTag = Math.random().toString(36).slice(2, 10);
  const methods = ["OPTIONS", "REGISTER"];
  const frames = [];
  let step = 0;
  let finished = false;

  function show(id, text) {
    document.getElementById(id).textContent = text;
  }

  function finish(error) {
    // onerror is followed by onclose: the first report is the one shown.
    if (finished) {
      return;
    }
    finished = true;
    if (error) {
      show("error", error);
    }
    show("frames", frames.join(","));
    document.title = "done";
  }

  function request(method, cseq) {
    const target = "sip:" + new URL(url.replace(/^ws/, "http")).host;
    const branch = "z9hG4bK" + Math.random().toString(36).slice(2);
    return [
      method + " " + target + " SIP/2.0",
      "Via: SIP/2.0/" + transport + " " + host + ";branch=" + branch,
      "Max-Forwards: 70",
      "From: <sip:browser@example.test>;tag=" + fromTag,
      "To: <sip:browser@example.test>",
      "Call-ID: " + callId,
      "CSeq: " + cseq + " " + method,
      "Contact: <sip:browser@" + host + ";transport=ws>",
      method === "REGISTER" ? "Expires: 600" : "Accept: application/sdp",
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n");
  }

  function sendNext(socket) {
    socket.send(request(methods[step], step + 1));
  }

  // RFC 3261 §8.2.6: a 200 to a request from the server, with its Via, From, To (a tag
  // added), Call-ID and CSeq.
  function answer(text) {
    const lines = text.split("\r\n");
    const copied = lines.filter(function (line) {
      return /^(Via|From|Call-ID|CSeq):/i.test(line);
    });
    const to = lines.find(function (line) {
      return /^To:/i.test(line);
    });
    return ["SIP/2.0 200 OK"]
      .concat(copied, [to + ";tag=" + fromTag, "Content-Length: 0", "", ""])
      .join("\r\n");
  }

  let socket;
  try {
    socket = new WebSocket(url, "sip");
  } catch (error) {
    finish("constructor: " + error);
    return;
  }
  socket.onopen = function () {
    show("subprotocol", socket.protocol);
    sendNext(socket);
  };
  socket.onmessage = function (event) {
    // RFC 7118 §4.2: a SIP message may arrive as text or binary; sippet sends UTF-8 as text.
    frames.push(typeof event.data === "string" ? "text" : "binary");
    const text = typeof event.data === "string" ? event.data : "";
    const first = text.split("\r\n")[0];
    if (!first.startsWith("SIP/2.0 ")) {
      // A request from the server: it reached this client by the name in its Contact
      // (RFC 7118 §5). Answer it, show it, and end.
      socket.send(answer(text));
      show("request", first);
      socket.close(1000);
      finish("");
      return;
    }
    const code = Number(first.split(" ")[1]);
    if (code < 200) {
      return;
    }
    show(methods[step], first);
    step += 1;
    if (step < methods.length) {
      sendNext(socket);
    }
  };
  socket.onerror = function () {
    finish("websocket error");
  };
  socket.onclose = function (event) {
    finish("closed " + event.code);
  };
})();
