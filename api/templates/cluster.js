(function () {
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var nodes = new vis.DataSet(data.nodes);
  var edges = new vis.DataSet(data.edges);
  var started = performance.now();
  var network = new vis.Network(document.getElementById("net"), {nodes: nodes, edges: edges}, data.options);
  var status = document.getElementById("status");
  // Expansions, newest last: what each added, so that it can be taken back.
  var expansions = [];
  var hiddenRels = {};
  window.linkscopeNetwork = network;
  function tell(message) { if (window.parent !== window) window.parent.postMessage(message, "*"); }
  function visibleNodes() { return nodes.get({filter: function (n) { return !n.hidden; }}).length; }
  function visibleEdges() { return edges.get({filter: function (e) { return !e.hidden; }}).length; }
  // The counter is what is drawn: nodes hidden by a filter are not counted.
  function counted(type, extra) {
    var shown = visibleNodes(), lines = visibleEdges();
    status.textContent = shown + " nodes, " + lines + " edges" + (expansions.length ? " · " + expansions.length + " expansion(s)" : "");
    document.body.dataset.nodes = String(shown);
    var message = {type: type, nodes: shown, edges: lines, expansions: expansions.length};
    for (var k in extra || {}) message[k] = extra[k];
    tell(message);
  }
  // Physics runs only while a layout settles, then stops (large views stay responsive).
  function settle(iterations, fixedIds, done) {
    fixedIds.forEach(function (id) { nodes.update({id: id, fixed: {x: true, y: true}}); });
    network.setOptions({physics: {enabled: true}});
    network.once("stabilizationIterationsDone", function () {
      network.setOptions({physics: false});
      fixedIds.forEach(function (id) { nodes.update({id: id, fixed: false}); });
      done();
    });
    network.stabilize(iterations);
  }
  network.once("stabilizationIterationsDone", function () {
    network.setOptions({physics: false});
    var ms = Math.round(performance.now() - started);
    document.body.dataset.stabilized = String(ms);
    counted("linkscope:stabilized", {ms: ms});
  });
  network.on("click", function (params) {
    if (!params.nodes.length) return;
    var node = nodes.get(params.nodes[0]);
    tell({type: "linkscope:node", id: node.id, kind: node.kind, key: node.key});
  });
  // Edge labels on hover only: amounts and counts without covering the picture.
  network.on("hoverEdge", function (params) {
    var edge = edges.get(params.edge);
    if (edge && edge.hover) edges.update({id: edge.id, label: edge.hover});
  });
  network.on("blurEdge", function (params) {
    var edge = edges.get(params.edge);
    if (edge && edge.hover) edges.update({id: edge.id, label: " "});
  });
  function add(message) {
    var before = nodes.length;
    var fresh = (message.nodes || []).filter(function (n) { return !nodes.get(n.id); });
    var freshEdges = (message.edges || []).filter(function (e) { return e.id === undefined || !edges.get(e.id); });
    var centre = message.around && nodes.get(message.around) ? network.getPositions([message.around])[message.around] : null;
    if (centre) {
      // New nodes on a ring around the node that was expanded, not in a pile at the centre.
      var radius = 90 + 6 * Math.min(fresh.length, 40);
      fresh.forEach(function (n, i) {
        var angle = (2 * Math.PI * i) / Math.max(fresh.length, 1);
        n.x = centre.x + radius * Math.cos(angle);
        n.y = centre.y + radius * Math.sin(angle);
      });
    }
    var old = nodes.getIds();
    nodes.add(fresh);
    var edgeIds = edges.add(freshEdges);
    if (message.around) expansions.push({around: message.around, nodes: fresh.map(function (n) { return n.id; }), edges: edgeIds});
    applyFilter();
    var finish = function () {
      if (!before) network.fit({animation: false});
      counted("linkscope:added", {added: fresh.length, around: message.around || null});
    };
    if (!fresh.length) { finish(); return; }
    // A first fill (a Cypher result) lays out everything and fits it to the frame; an
    // expansion settles the new nodes only, the rest held where the user saw them.
    status.textContent = "laying out…";
    settle(before ? 60 : 200, before ? old : [], finish);
  }
  function undo() {
    var last = expansions.pop();
    if (!last) { counted("linkscope:undone", {removed: 0}); return; }
    edges.remove(last.edges);
    nodes.remove(last.nodes);
    counted("linkscope:undone", {removed: last.nodes.length, around: last.around});
  }
  // Relationship types switched off: their edges are hidden, and nodes left with no visible
  // edge (other than the page's subject) with them.
  function applyFilter() {
    var edgeUpdates = edges.get().map(function (e) { return {id: e.id, hidden: Boolean(e.rel && hiddenRels[e.rel])}; });
    edges.update(edgeUpdates);
    var linked = {};
    edges.get({filter: function (e) { return !e.hidden; }}).forEach(function (e) { linked[e.from] = true; linked[e.to] = true; });
    var any = Object.keys(hiddenRels).length > 0;
    nodes.update(nodes.get().map(function (n) { return {id: n.id, hidden: any && !n.subject && !linked[n.id]}; }));
  }
  function highlight(pairs) {
    var wanted = {};
    (pairs || []).forEach(function (p) { wanted[[p[0], p[1]].sort().join("|")] = true; });
    var ids = edges.get({filter: function (e) { return e.pair && wanted[e.pair.slice().sort().join("|")]; }}).map(function (e) { return e.id; });
    network.setSelection({nodes: [], edges: ids}, {unselectAll: true, highlightEdges: false});
    document.body.dataset.highlighted = String(ids.length);
    tell({type: "linkscope:highlighted", edges: ids.length});
  }
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent) return;
    var message = event.data || {};
    if (message.type === "linkscope:add") add(message);
    else if (message.type === "linkscope:undo") undo();
    else if (message.type === "linkscope:filter") {
      hiddenRels = {};
      (message.hidden || []).forEach(function (r) { hiddenRels[r] = true; });
      applyFilter();
      counted("linkscope:filtered");
    } else if (message.type === "linkscope:highlight") highlight(message.pairs);
    else if (message.type === "linkscope:snapshot") {
      var canvas = document.querySelector("canvas");
      tell({type: "linkscope:snapshot", url: canvas ? canvas.toDataURL("image/png") : ""});
    }
  });
  tell({type: "linkscope:ready"});
})();
