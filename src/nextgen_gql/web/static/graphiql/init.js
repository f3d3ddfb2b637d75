// Starts GraphiQL on this page's endpoint. Served by the service itself (no CDN), so it
// works on a closed network. Requests go to the same origin with the NextGenCSO cookie,
// as application/json, which the service accepts from its own pages. Subscriptions are
// streamed as server-sent events from the same endpoint (Accept: text/event-stream): each
// event shows as it comes, until the stream completes or the stop button is pressed.
(function () {
  "use strict";
  var endpoint = document.body.getAttribute("data-endpoint") || "/graphql";
  var defaultQuery = JSON.parse(document.getElementById("default-query").textContent);
  var fetcher = GraphiQL.createFetcher({ url: endpoint, fetch: function (url, init) {
    init = init || {};
    init.credentials = "same-origin";
    return window.fetch(url, init);
  } });

  // Whether the operation to run is a subscription (the named one, or the document's only one).
  function isSubscription(params) {
    var text = (params.query || "").replace(/#[^\n]*/g, "");
    if (params.operationName) {
      return new RegExp("subscription\\s+" + params.operationName + "\\b").test(text);
    }
    return /^\s*subscription\b/.test(text);
  }

  // The results of a subscription, from a stream of server-sent events (graphql-sse).
  function streamed(params, options) {
    var controller = new AbortController();
    var headers = Object.assign({ "content-type": "application/json", accept: "text/event-stream" },
      (options && options.headers) || {});
    var response = window.fetch(endpoint, { method: "POST", credentials: "same-origin", headers: headers,
      body: JSON.stringify(params), signal: controller.signal });
    var reader = null, buffer = "", decoder = new TextDecoder(), done = false;
    async function nextEvent() {
      if (!reader) {
        var answer = await response;
        if (!answer.ok || !(answer.headers.get("content-type") || "").startsWith("text/event-stream")) {
          done = true;
          return { value: await answer.json(), done: false };
        }
        reader = answer.body.getReader();
      }
      for (;;) {
        var end = buffer.indexOf("\n\n");
        if (end >= 0) {
          var frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          var name = "message", data = [];
          frame.split("\n").forEach(function (line) {
            if (line.startsWith("event:")) name = line.slice(6).trim();
            else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
          });
          if (name === "complete") { done = true; return { value: undefined, done: true }; }
          if (name === "next" && data.length) return { value: JSON.parse(data.join("\n")), done: false };
          continue;
        }
        var chunk = await reader.read();
        if (chunk.done) { done = true; return { value: undefined, done: true }; }
        buffer += decoder.decode(chunk.value, { stream: true });
      }
    }
    var iterator = {
      next: function () { return done ? Promise.resolve({ value: undefined, done: true }) : nextEvent(); },
      return: function () { done = true; controller.abort(); return Promise.resolve({ value: undefined, done: true }); }
    };
    iterator[Symbol.asyncIterator] = function () { return iterator; };
    return iterator;
  }

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, {
    fetcher: function (params, options) {
      return isSubscription(params) ? streamed(params, options) : fetcher(params, options);
    },
    defaultQuery: defaultQuery,
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false
  }));
})();
