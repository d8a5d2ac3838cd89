// Candlestick chart with volume, SMA(20), SMA(50) and Bollinger Bands (20, 2).
(function () {
  const holder = document.getElementById("price-chart");
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  if (!holder || !data) { if (holder) holder.remove(); return; }
  const line = (y, name, color, dash) => ({
    x: data.x, y: y, name: name, type: "scatter", mode: "lines", yaxis: "y",
    line: { color: color, width: 1.2, dash: dash || "solid" }, hoverinfo: "skip",
  });
  const traces = [
    { x: data.x, open: data.open, high: data.high, low: data.low, close: data.close, type: "candlestick",
      name: "price", yaxis: "y", increasing: { line: { color: "#1a9850" } }, decreasing: { line: { color: "#d73027" } } },
    line(data.sma20, "SMA 20", "#2b6cb0"),
    line(data.sma50, "SMA 50", "#805ad5"),
    line(data.bb_upper, "Bollinger upper", "#999", "dot"),
    line(data.bb_lower, "Bollinger lower", "#999", "dot"),
    { x: data.x, y: data.volume, type: "bar", name: "volume", yaxis: "y2", marker: { color: "#a0aec0" } },
  ];
  const layout = {
    margin: { l: 60, r: 20, t: 20, b: 40 }, height: 560, showlegend: true,
    legend: { orientation: "h", y: 1.04 },
    xaxis: { type: "category", rangeslider: { visible: false }, nticks: 10 },
    yaxis: { domain: [0.28, 1], title: "price" },
    yaxis2: { domain: [0, 0.22], title: "volume" },
  };
  Plotly.newPlot(holder, traces, layout, { responsive: true, displaylogo: false }).then(function () {
    holder.setAttribute("data-rendered", "true");
  });
})();
