"use strict";
(() => {
  const token = document.body.dataset.token;
  const say = (text) => { const m = document.getElementById("message"); if (m) m.textContent = text; };

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Storyboard-Token": token },
      body: JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  // Swap only the parts whose data-version changed (videos elsewhere keep playing).
  async function refresh() {
    const response = await fetch("/board", { cache: "no-store" });
    if (!response.ok) return;
    const next = document.createElement("div");
    next.innerHTML = await response.text();
    const main = document.getElementById("main");
    const oldBoard = document.getElementById("board"), newBoard = next.querySelector("#board");
    if (!oldBoard || !newBoard || oldBoard.dataset.scenes !== newBoard.dataset.scenes) {
      main.replaceChildren(...next.childNodes);
      return;
    }
    for (const part of next.querySelectorAll("[data-version]")) {
      if (!part.id) continue;
      const old = document.getElementById(part.id);
      if (old && old.dataset.version !== part.dataset.version) old.replaceWith(part);
    }
  }

  async function generate(scene, n) {
    const quote = await post("/api/generate", { scene, n });
    const what = quote.to_generate.length ? quote.to_generate.join(", ") : "nothing";
    if (!window.confirm(`Generate ${what}?\n${quote.cost}`)) return say("Not confirmed; nothing was generated.");
    await post("/api/generate", { scene, n, confirm: true });
    say(`Generating ${what}…`);
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const { action, scene } = button.dataset;
    button.disabled = true;
    try {
      if (action === "pick") {
        const result = await post("/api/pick", { scene, take: Number(button.dataset.take) });
        say(result.stale.length
          ? `Picked take ${result.take} of ${scene}; now stale: ${result.stale.join(", ")} (${result.cost})`
          : `Picked take ${result.take} of ${scene}; the edit was re-assembled.`);
      } else if (action === "reroll") {
        await generate(scene, 1);
      } else if (action === "render") {
        await generate(null, 1);
      } else if (action === "note") {
        const text = window.prompt(`Note for ${scene}:`, button.dataset.note || "");
        if (text !== null) await post("/api/note", { scene, text });
      }
      await refresh();
    } catch (error) {
      say(`✗ ${error.message}`);
    } finally {
      button.disabled = false;
    }
  });

  const events = new EventSource("/events");
  events.addEventListener("changed", () => refresh());
})();
