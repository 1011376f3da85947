"use strict";
// The overview: one row per topic, refreshed from /api/overview/events.
(() => {
  const body = document.querySelector("#topics tbody");
  const problem = document.getElementById("problem");
  const el = dq.el;
  window.dqView = { updates: 0 };

  function lagCell(lag) {
    const groups = Object.keys(lag);
    if (!groups.length) return el("td", { class: "muted", text: "no group chosen" });
    const cell = el("td", { class: "mono" });
    for (const group of groups) {
      const value = lag[group];
      cell.append(el("div", {}, `${group}: ${value === null ? "no commits" : value}`));
    }
    return cell;
  }

  function row(topic) {
    const link = el("a", { href: "/topic/" + encodeURIComponent(topic.name), text: topic.name });
    return el("tr", { "data-topic": topic.name },
      el("td", { class: "mono" }, link),
      el("td", { class: "num", text: topic.partitions }),
      el("td", { class: "num", text: dq.num(topic.msg_s, 1) }),
      el("td", { class: "num", text: dq.num(topic.mib_s, 3) }),
      el("td", { class: "num", text: topic.received }),
      el("td", {}, dq.time(topic.last_timestamp_ms), el("br"), el("span", { class: "muted", text: dq.age(topic.last_timestamp_ms) })),
      el("td", { class: "mono", text: topic.encoding || "-" }),
      el("td", { class: "mono", text: topic.model ? `${topic.model} (${topic.schema})` : (topic.schema || "-") }),
      lagCell(topic.lag));
  }

  dq.stream("/api/overview/events", (data) => {
    document.getElementById("bootstrap").textContent = "Kafka at " + data.bootstrap;
    problem.hidden = !data.problem;
    problem.textContent = data.problem || "";
    dq.clear(body);
    for (const topic of data.topics) body.append(row(topic));
    if (!data.topics.length) body.append(el("tr", {}, el("td", { colspan: "9", class: "muted", text: "no topics yet" })));
    window.dqView.updates += 1;
  });
})();
