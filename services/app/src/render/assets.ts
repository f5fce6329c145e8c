// Static assets served under /static/<name>.<hash>.<ext> with year-long immutable caching: the
// content hash in the name changes whenever the content does.
import { createHash } from 'node:crypto';

const CSS = `
:root { --fg:#1d1f21; --muted:#5b6068; --bg:#fbfbf8; --accent:#b0124e; --card:#fff; --line:#e3e3dc; --warn:#7a4b00; --warnbg:#fff1cc; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); line-height: 1.55; }
body { margin: 0; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible, select:focus-visible { outline: 3px solid #2a6df4; outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; }
header.site { border-bottom: 1px solid var(--line); background: var(--card); }
header.site .wrap { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; justify-content: space-between; }
header.site .brand { font-weight: 700; font-size: 1.25rem; text-decoration: none; color: var(--fg); }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 1rem; margin: 0; padding: 0; align-items: center; }
nav form { display: inline; }
.wrap { max-width: 48rem; margin: 0 auto; padding: 1rem; }
main.wrap { min-height: 60vh; }
.banner { background: var(--warnbg); color: var(--warn); border-bottom: 1px solid #e6c66a; }
.banner p { margin: 0; }
article.card, section.card { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: 1rem 1.25rem; margin: 0 0 1rem; }
.meta { color: var(--muted); font-size: .9rem; }
.tags { list-style: none; padding: 0; display: flex; gap: .5rem; flex-wrap: wrap; }
.tags a { background: #f1e4ea; border-radius: 1rem; padding: 0 .6rem; text-decoration: none; font-size: .85rem; }
pre { overflow-x: auto; background: #f2f2ee; padding: .75rem; border-radius: .25rem; }
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; }
img { max-width: 100%; height: auto; }
label { display: block; font-weight: 600; margin-top: .75rem; }
input[type=text], input[type=email], input[type=password], textarea, select { width: 100%; padding: .5rem; font: inherit; border: 1px solid #b9b9b0; border-radius: .25rem; }
textarea { min-height: 16rem; font-family: ui-monospace, monospace; }
button { font: inherit; padding: .45rem 1rem; border-radius: .25rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
.error { color: #a40000; font-weight: 600; }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; margin-top: 1rem; }
.pager { display: flex; justify-content: space-between; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 1rem; }
.ok { color: #17702f; } .bad { color: #a40000; }
footer.site { border-top: 1px solid var(--line); color: var(--muted); font-size: .9rem; }
@media (prefers-color-scheme: dark) { :root { --fg:#e8e8e3; --muted:#a7abb2; --bg:#16171a; --card:#1f2125; --line:#33363c; --accent:#ff6fa5; } pre { background:#26282d; } .tags a { background:#3a2430; } }
`;

const CLUSTER_JS = `
// Live /cluster: replaces the server-rendered sections with the snapshots from /cluster/events.
(function () {
  if (!window.EventSource) return;
  var status = document.getElementById('live-status');
  var es = new EventSource('/cluster/events');
  es.addEventListener('snapshot', function (e) {
    var data = JSON.parse(e.data);
    ['instances', 'topology'].forEach(function (id) {
      var el = document.getElementById(id);
      if (el && typeof data[id + 'Html'] === 'string') {
        var doc = new DOMParser().parseFromString(data[id + 'Html'], 'text/html');
        el.replaceChildren.apply(el, Array.prototype.slice.call(doc.body.childNodes));
      }
    });
    if (status) status.textContent = 'Live: updated ' + new Date().toLocaleTimeString();
  });
  es.onerror = function () { if (status) status.textContent = 'Live updates paused; retrying...'; };
})();
`;

export interface Asset {
  path: string;
  type: string;
  body: Buffer;
}

function asset(name: string, ext: string, type: string, text: string): Asset {
  const body = Buffer.from(text.trim() + '\n');
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
  return { path: `/static/${name}.${hash}.${ext}`, type, body };
}

export const assets = {
  css: asset('site', 'css', 'text/css; charset=utf-8', CSS),
  clusterJs: asset('cluster', 'js', 'text/javascript; charset=utf-8', CLUSTER_JS),
};

export const assetsByPath = new Map<string, Asset>(Object.values(assets).map((a) => [a.path, a]));
