(() => {
  "use strict";
  const svg = document.getElementById("diagram");
  const root = document.documentElement;
  const info = document.getElementById("info");
  const zooms = svg.dataset.zooms.split(" ").map(Number);
  const top = Number(svg.dataset.top), bottom = Number(svg.dataset.bottom);
  const last = Number(svg.dataset.last), bend = Number(svg.dataset.bend);
  const timerBox = document.getElementById("timers");
  const foldable = new Set(Array.from(
    svg.querySelectorAll(".row.k-timeout:not(.failing)"), (row) => Number(row.dataset.at)));
  let zoom = Number(svg.dataset.zoom), focus = "";

  function path(x1, y1, x2, y2) {
    return x1 === x2 ? `M${x1},${y1} Q${x1 + bend},${(y1 + y2) / 2} ${x2},${y2}`
                     : `M${x1},${y1} L${x2},${y2}`;
  }

  function layout() {
    const h = zooms[zoom], folded = !timerBox.checked, ys = [];
    let slot = 0;
    for (let n = 0; n <= last; n++) {
      // A folded row takes no height: what it holds sits on the line between its
      // neighbours, so arrows sent by a folded timer firing still start somewhere true.
      ys.push(folded && foldable.has(n) ? top + slot * h : top + slot++ * h + h / 2);
    }
    for (const el of svg.querySelectorAll("[data-at]")) {
      el.setAttribute("transform", `translate(${el.dataset.x},${ys[el.dataset.at]})`);
    }
    for (const el of svg.querySelectorAll("[data-span]")) {
      const [a, b] = el.dataset.span.split(" ").map(Number);
      if (el.tagName === "rect") {
        el.setAttribute("y", ys[a] - h / 2);
        el.setAttribute("height", ys[b] - ys[a] + h);
      } else if (el.tagName === "line") {
        el.setAttribute("y1", ys[a]);
        el.setAttribute("y2", ys[b]);
      } else {
        const [x1, x2] = el.dataset.x.split(" ").map(Number);
        el.setAttribute("d", path(x1, ys[a], x2, ys[b]));
      }
    }
    for (const el of svg.querySelectorAll("[data-below]")) {
      el.setAttribute("transform", `translate(0,${h / 2})`);
    }
    for (const bg of svg.querySelectorAll(".row > rect")) {
      bg.setAttribute("y", -h / 2);
      bg.setAttribute("height", h);
    }
    svg.setAttribute("height", top + slot * h + bottom);
    root.classList.toggle("dense", h < 10);
    root.classList.toggle("tight", h === 10);
    root.classList.toggle("no-timers", folded);
    document.getElementById("zoom-level").textContent = `${h}px a row`;
  }

  document.getElementById("zoom-out").addEventListener("click", () => {
    zoom = Math.max(0, zoom - 1);
    layout();
  });
  document.getElementById("zoom-in").addEventListener("click", () => {
    zoom = Math.min(zooms.length - 1, zoom + 1);
    layout();
  });
  timerBox.addEventListener("change", layout);

  const failure = svg.querySelector(".violation");
  const toFailure = document.getElementById("to-failure");
  if (failure && toFailure) {
    toFailure.addEventListener("click", () => failure.scrollIntoView({block: "center"}));
  }

  // The panel shows what the tooltip shows, and keeps it until the pointer finds another
  // (or a click closes it).
  info.addEventListener("click", () => { info.hidden = true; });
  svg.addEventListener("mouseover", (event) => {
    const el = event.target.closest(".arrow, .mark, .violation, .lane, .row");
    const title = el && el.querySelector(":scope > title");
    if (title) {
      info.textContent = title.textContent;
      info.hidden = false;
    }
  });

  // A click on a lane's name lights up the messages to and from it; a second undoes it.
  for (const head of document.querySelectorAll(".lane-head")) {
    head.addEventListener("click", () => {
      focus = focus === head.dataset.pid ? "" : head.dataset.pid;
      root.classList.toggle("focusing", focus !== "");
      for (const other of document.querySelectorAll(".lane-head")) {
        other.classList.toggle("focused", other.dataset.pid === focus);
      }
      for (const arrow of svg.querySelectorAll(".arrow")) {
        arrow.classList.toggle("focus", arrow.dataset.from === focus || arrow.dataset.to === focus);
      }
    });
  }

  // The address's fragment sets the first view: #zoom=0 (to 4), timers=off, step=N.
  const options = new URLSearchParams(location.hash.slice(1));
  if (options.has("zoom") || options.has("timers")) {
    const asked = Number(options.get("zoom") ?? zoom);
    if (Number.isInteger(asked)) zoom = Math.min(zooms.length - 1, Math.max(0, asked));
    timerBox.checked = options.get("timers") !== "off";
    layout();
  }
  if (options.has("step")) {
    const row = svg.querySelector(`.row[data-at="${Number(options.get("step"))}"]`);
    if (row) row.scrollIntoView({block: "center"});
  }
})();
