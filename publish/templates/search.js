// The public site's search: Pagefind's static index, queried in the browser.
//
// Loaded as <script type="module" src="../assets/search.js"> from sq/search.html or
// en/search.html: no inline script, so the page keeps a strict Content-Security-Policy.
// Pagefind compiles WebAssembly in a worker from its bundle, which needs script-src
// 'self' 'wasm-unsafe-eval' (never 'unsafe-eval') wherever the policy reaches the worker
// (an HTTP header does; a meta tag does not), and fetches its index: connect-src 'self'.
//
// The index (publish/search.py) holds each comment once, under its Albanian URL, in
// segments listed by pagefind/segments.json: the first segment's pagefind.js is loaded
// and the others are merged into it. On the English page, results link to the English
// copy of each comment page. Pagefind matches without regard to diacritics, so
// "qeverise" finds "qeverisë" and the other way round.
//
// The page works without this script as far as it can: the <form> reloads the page
// with ?q=, which this script reads, so a search is also a link.

const TEXT = {
  sq: {
    results: (n) => (n === 1 ? "1 rezultat" : `${n} rezultate`),
    firstOnly: (n) => `, shfaqen ${n} të parat`,
    searching: "Duke kërkuar…",
    empty: "Shkruani një fjalë për të kërkuar.",
    failed: "Kërkimi nuk u ngarkua. Provoni përsëri më vonë.",
    file: "Kërkimi punon vetëm kur faqja shërbehet nga një server uebi (http ose https), " +
      "jo kur dosja hapet nga disku.",
  },
  en: {
    results: (n) => (n === 1 ? "1 result" : `${n} results`),
    firstOnly: (n) => `, showing the first ${n}`,
    searching: "Searching…",
    empty: "Type a word to search.",
    failed: "Search could not be loaded. Please try again later.",
    file: "Search works only when the site is served by a web server (http or https), " +
      "not when its folder is opened from disk.",
  },
};

const PAGE_SIZE = 20;

const language = document.documentElement.lang === "en" ? "en" : "sq";
const text = TEXT[language];
// The search page lives one folder below the site root (sq/ or en/).
const root = new URL("../", document.baseURI);

const form = document.getElementById("search-form");
const input = form?.querySelector('input[name="q"]');
const list = document.getElementById("results");
const status = document.getElementById("search-status");
const note = document.getElementById("search-note");

function say(message) {
  if (status) status.textContent = message;
}

// Where a result leads: Pagefind stores "/sq/comments/000/OGP-000123.html" (site root
// based); the link is made relative to the site root, so the site works under any path.
function resultHref(url) {
  let path = url.replace(/^\/+/, "");
  if (language !== "sq" && path.startsWith("sq/")) path = `${language}/${path.slice(3)}`;
  return new URL(path, root).href;
}

// Pagefind's excerpt is the page's own text, HTML-escaped, with the matched words in
// <mark>. Rebuild it from text nodes instead of trusting it as HTML: only <mark> survives.
function excerptInto(element, excerpt) {
  const parsed = new DOMParser().parseFromString(`<p>${excerpt}</p>`, "text/html");
  for (const node of parsed.body.firstChild?.childNodes ?? []) {
    if (node.nodeType === Node.ELEMENT_NODE && node.nodeName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      element.append(mark);
    } else {
      element.append(document.createTextNode(node.textContent ?? ""));
    }
  }
}

function render(item) {
  const li = document.createElement("li");
  const heading = document.createElement("h2");
  const link = document.createElement("a");
  link.href = resultHref(item.url);
  link.textContent = item.meta?.title || item.meta?.reference || item.url;
  heading.append(link);
  li.append(heading);
  const details = [item.meta?.reference, item.meta?.date].filter(Boolean);
  if (details.length) {
    const small = document.createElement("p");
    small.className = "result-meta";
    small.textContent = details.join(" · ");
    li.append(small);
  }
  const excerpt = document.createElement("p");
  excerptInto(excerpt, item.excerpt || "");
  li.append(excerpt);
  return li;
}

// Loaded once per page: merging a segment twice would list its results twice.
let loading = null;

// A worker refused by the CSP (no 'wasm-unsafe-eval') leaves Pagefind waiting forever:
// give up after a while and say so, rather than "Searching…" for ever.
const LOAD_TIMEOUT_MS = 30000;

function pagefindOnce() {
  if (!loading) {
    const timeout = new Promise((_, reject) => {
      setTimeout(() => reject(new Error("search index did not load in time")), LOAD_TIMEOUT_MS);
    });
    loading = Promise.race([loadPagefind(), timeout]).catch((error) => {
      loading = null;
      throw error;
    });
  }
  return loading;
}

async function loadPagefind() {
  const manifestUrl = new URL("pagefind/segments.json", root);
  const manifest = await (await fetch(manifestUrl)).json();
  const segments = manifest.segments.map((s) => new URL(`pagefind/${s.name}/`, root).href);
  if (!segments.length) return null;
  const pagefind = await import(new URL("pagefind.js", segments[0]).href);
  // Result URLs come back as stored ("/sq/..."); resultHref makes them relative.
  await pagefind.options({ baseUrl: "/", excerptLength: 30 });
  await pagefind.init();
  for (const segment of segments.slice(1)) {
    await pagefind.mergeIndex(segment, { baseUrl: "/", language: manifest.language });
  }
  return pagefind;
}

// Only the latest search may write its results: an earlier, slower one is dropped.
let latest = 0;

async function run(query) {
  if (!list) return;
  const mine = ++latest;
  list.setAttribute("aria-busy", "true");
  try {
    await runSearch(query, () => mine === latest);
  } catch (error) {
    console.error("search: could not search the index", error);
    if (mine === latest) say(text.failed);
  } finally {
    if (mine === latest) list.setAttribute("aria-busy", "false");
  }
}

async function runSearch(query, current) {
  list.replaceChildren();
  if (!query.trim()) {
    say(text.empty);
    return;
  }
  say(text.searching);
  const pagefind = await pagefindOnce();
  if (!current()) return;
  if (!pagefind) {
    say(text.results(0));
    return;
  }
  const found = await pagefind.search(query);
  const items = await Promise.all(found.results.slice(0, PAGE_SIZE).map((r) => r.data()));
  if (!current()) return;
  list.replaceChildren(...items.map(render));
  const total = found.results.length;
  say(text.results(total) + (total > items.length ? text.firstOnly(items.length) : ""));
}

function start() {
  if (location.protocol !== "http:" && location.protocol !== "https:") {
    // Browsers refuse fetch() and WebAssembly from file:// pages; say so plainly.
    if (note) {
      note.textContent = text.file;
      note.hidden = false;
    }
    say(text.file);
    return;
  }
  if (note) note.hidden = true;
  const query = new URLSearchParams(location.search).get("q") ?? "";
  if (input) input.value = query;
  form?.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input?.value ?? "";
    const url = new URL(location.href);
    url.searchParams.set("q", value);
    history.replaceState(null, "", url);
    run(value);
  });
  if (query) run(query);
}

start();
