// Starts GraphiQL on this page's endpoint. Served by the service itself (no CDN), so it
// works on a closed network. Requests go to the same origin with the NextGenCSO cookie,
// as application/json, which the service accepts from its own pages.
(function () {
  "use strict";
  var endpoint = document.body.getAttribute("data-endpoint") || "/graphql";
  var defaultQuery = JSON.parse(document.getElementById("default-query").textContent);
  var fetcher = GraphiQL.createFetcher({ url: endpoint, fetch: function (url, init) {
    init = init || {};
    init.credentials = "same-origin";
    return window.fetch(url, init);
  } });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: defaultQuery,
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false
  }));
})();
