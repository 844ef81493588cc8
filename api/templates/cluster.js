(function () {
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var nodes = new vis.DataSet(data.nodes);
  var edges = new vis.DataSet(data.edges);
  var started = performance.now();
  var network = new vis.Network(document.getElementById("net"), {nodes: nodes, edges: edges}, data.options);
  window.linkscopeNetwork = network;
  function tell(message) { if (window.parent !== window) window.parent.postMessage(message, "*"); }
  network.once("stabilizationIterationsDone", function () {
    network.setOptions({physics: false});
    var ms = Math.round(performance.now() - started);
    document.body.dataset.stabilized = String(ms);
    document.getElementById("status").textContent = nodes.length + " nodes, " + edges.length + " edges";
    tell({type: "linkscope:stabilized", ms: ms, nodes: nodes.length, edges: edges.length});
  });
  network.on("click", function (params) {
    if (!params.nodes.length) return;
    var node = nodes.get(params.nodes[0]);
    tell({type: "linkscope:node", id: node.id, kind: node.kind, key: node.key});
  });
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent) return;
    var message = event.data || {};
    if (message.type !== "linkscope:add") return;
    nodes.update(message.nodes || []);
    edges.update(message.edges || []);
    tell({type: "linkscope:added", nodes: nodes.length, edges: edges.length});
  });
  tell({type: "linkscope:ready"});
})();
