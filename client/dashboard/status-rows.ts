// The dashboard's status rows: a backend (status, latency chart, Ping and Pre-warm), its usage
// (runs and cost, a bar per day) and a channel. Each is built once and updated in place.
import type { DashboardActions } from "./actions.ts";
import { act, el, type ItemView, listItem, setAttr, setText } from "./dom.ts";
import { type BackendItem, type ChannelItem, sparklinePoints, type UsageItem } from "./view-model.ts";

const SVG = "http://www.w3.org/2000/svg";
const CHART = { width: 120, height: 28 };

/** An SVG chart of the given size, read by screen readers as one image (its aria-label). */
function svgChart(className: string, size: { width: number; height: number }): SVGSVGElement {
  const chart = document.createElementNS(SVG, "svg");
  chart.setAttribute("class", className);
  chart.setAttribute("viewBox", `0 0 ${size.width} ${size.height}`);
  chart.setAttribute("role", "img");
  return chart;
}

export function backendRow(initial: BackendItem, actions: DashboardActions): ItemView<BackendItem> {
  let current = initial;
  const indicator = el("span", { className: "indicator", attrs: { "aria-hidden": "true" } });
  const name = el("span", { className: "name" });
  const label = el("span", { className: "status-label" });
  const chart = svgChart("latency-chart", CHART);
  const line = document.createElementNS(SVG, "polyline");
  chart.append(line);
  const latency = el("span", { className: "when" });
  const pinged = el("span", { className: "pinged" });
  const version = el("span", { className: "version" });
  const prewarmed = el("span", { className: "prewarmed" });
  const reason = el("div", { className: "reason" });
  const ping = el("button", { text: "Ping now", attrs: { type: "button" } });
  const prewarm = el("button", { text: "Pre-warm", attrs: { type: "button" } });
  const outcome = el("span", { className: "outcome", attrs: { role: "status", "aria-live": "polite" } });
  ping.addEventListener("click", () => void act([ping, prewarm], outcome, () => actions.ping(current.name)));
  prewarm.addEventListener("click", () => void act([ping, prewarm], outcome, () => actions.prewarm(current.name)));
  const root = listItem(
    "row",
    { "data-backend": initial.name },
    [indicator, name, label, chart, latency],
    el("div", { className: "meta" }, pinged, version, prewarmed),
    reason,
    el("div", { className: "actions" }, ping, prewarm, outcome),
  );
  return {
    root,
    update(item) {
      current = item;
      setAttr(indicator, "data-status", item.status);
      setAttr(root, "data-status", item.status);
      setText(name, item.name);
      setText(label, item.statusLabel);
      setAttr(line, "points", sparklinePoints(item.latencies, CHART.width, CHART.height));
      setAttr(
        chart,
        "aria-label",
        item.latencies.length > 0
          ? `ping latency of the last ${item.latencies.length} pings, ${Math.min(...item.latencies)} to ${Math.max(...item.latencies)} ms`
          : "no ping latency recorded yet",
      );
      setText(latency, item.latencyText);
      setText(pinged, item.pingedText);
      setText(version, item.versionText);
      setText(prewarmed, item.prewarmedText);
      reason.hidden = item.reasonText === null;
      setText(reason, item.reasonText ?? "");
      setAttr(ping, "aria-label", `Ping ${item.name} now`);
      setAttr(prewarm, "aria-label", `Pre-warm ${item.name}`);
    },
  };
}

const BARS = { width: 140, height: 32, gap: 4 };

/** A bar of the usage chart with its tooltip, made once and updated in place. */
function usageBar(): { rect: SVGRectElement; title: SVGTitleElement } {
  const rect = document.createElementNS(SVG, "rect");
  const title = document.createElementNS(SVG, "title");
  rect.append(title);
  return { rect, title };
}

/** A backend's usage: today and 7 days in words, and a bar per day (tokens), tallest = busiest day. */
export function usageRow(initial: UsageItem): ItemView<UsageItem> {
  const name = el("span", { className: "name" });
  const today = el("div", { className: "detail usage-today" });
  const week = el("div", { className: "detail usage-week" });
  const chart = svgChart("usage-chart", BARS);
  const bars: ReturnType<typeof usageBar>[] = [];
  const root = listItem("row", { "data-backend": initial.backend }, [name, chart], today, week);
  return {
    root,
    update(item) {
      setText(name, item.backend);
      setText(today, item.todayText);
      setText(week, item.weekText);
      setAttr(chart, "aria-label", `tokens per day, last 7 days: ${item.bars.map((b) => b.label).join("; ")}`);
      // The same seven days in every redraw: a bar is added or removed only if their number changes.
      while (bars.length < item.bars.length) {
        const bar = usageBar();
        bars.push(bar);
        chart.append(bar.rect);
      }
      for (const gone of bars.splice(item.bars.length)) gone.rect.remove();
      const width = (BARS.width - BARS.gap * (item.bars.length - 1)) / Math.max(1, item.bars.length);
      item.bars.forEach((bar, i) => {
        const { rect, title } = bars[i] as ReturnType<typeof usageBar>;
        const height = bar.tokens > 0 ? Math.max(1, (bar.heightPercent / 100) * BARS.height) : 0;
        setAttr(rect, "x", (i * (width + BARS.gap)).toFixed(1));
        setAttr(rect, "y", (BARS.height - height).toFixed(1));
        setAttr(rect, "width", width.toFixed(1));
        setAttr(rect, "height", height.toFixed(1));
        setAttr(rect, "data-day", bar.day);
        setText(title, bar.label);
      });
    },
  };
}

export function channelRow(initial: ChannelItem): ItemView<ChannelItem> {
  const name = el("span", { className: "name" });
  const active = el("span", { className: "when" });
  const lastTask = el("div", { className: "detail" });
  const root = listItem("row", { "data-channel": initial.channel }, [name, active], lastTask);
  return {
    root,
    update(item) {
      setText(name, item.channel);
      setText(active, item.activeText);
      setText(lastTask, item.lastTaskText);
    },
  };
}
