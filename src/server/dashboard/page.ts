// The dashboard: one static page (HTML, CSS, plain JS), inlined here so that tsc ships it without a
// bundler. It holds no data: it asks for the token, keeps it in sessionStorage, and reads everything
// from the API — the runs list, a run's live event stream (fetch + a small SSE reader, because
// EventSource cannot send an Authorization header; reconnected, as EventSource would, with the last
// `id:` received as Last-Event-ID when it drops),
// and the breakers from /health. A server started without a token is asked for none.
// Everything from the server is inserted with textContent, never as HTML.
export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Elexirion</title>
<link rel="icon" href="data:,">
<style>
  :root { --bg:#0f1419; --panel:#171d24; --line:#2a323c; --text:#d8dee6; --dim:#8a96a3; --ok:#3fb950;
          --fail:#f85149; --run:#d29922; --accent:#58a6ff; font-family: system-ui, sans-serif; }
  * { box-sizing: border-box; }
  body { margin:0; background:var(--bg); color:var(--text); font-size:14px; }
  header { display:flex; align-items:center; gap:16px; padding:10px 20px; border-bottom:1px solid var(--line); background:var(--panel); }
  header h1 { font-size:18px; margin:0; }
  header a { color:var(--text); text-decoration:none; }
  #breakers { display:flex; gap:8px; margin-left:auto; flex-wrap:wrap; }
  .chip { border:1px solid var(--line); border-radius:12px; padding:2px 10px; font-size:12px; color:var(--dim); }
  .chip.closed { color:var(--ok); } .chip.open { color:var(--fail); } .chip.half_open { color:var(--run); }
  main { padding:20px; max-width:1200px; margin:0 auto; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:16px; margin-bottom:16px; }
  h2 { font-size:15px; margin:0 0 12px; }
  table { width:100%; border-collapse:collapse; }
  th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); white-space:nowrap; }
  th { color:var(--dim); font-weight:500; }
  td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
  a.run-link { color:var(--accent); font-family: ui-monospace, monospace; }
  .status { font-weight:600; }
  .status.succeeded { color:var(--ok); } .status.failed { color:var(--fail); }
  .status.running { color:var(--run); } .status.cancelled, .status.interrupted, .status.skipped, .status.stopped { color:var(--dim); }
  form { display:flex; gap:10px; align-items:center; flex-wrap:wrap; }
  input, select, textarea, button { background:var(--bg); color:var(--text); border:1px solid var(--line); border-radius:6px; padding:6px 10px; font:inherit; }
  button { background:#238636; border-color:#2ea043; cursor:pointer; }
  button.secondary { background:var(--bg); }
  textarea { width:100%; font-family: ui-monospace, monospace; }
  .timeline .step { display:grid; grid-template-columns: 18px 160px 170px 1fr 90px 100px; gap:10px; align-items:center;
                    padding:8px 4px; border-bottom:1px solid var(--line); }
  .dot { width:12px; height:12px; border-radius:50%; background:var(--dim); }
  .step[data-status=running] .dot { background:var(--run); animation: pulse 1s infinite; }
  .step[data-status=succeeded] .dot { background:var(--ok); } .step[data-status=failed] .dot { background:var(--fail); }
  @keyframes pulse { 50% { opacity:.35; } }
  .output { white-space:pre-wrap; font-family: ui-monospace, monospace; font-size:12px; color:var(--dim); overflow:auto; max-height:4.5em; overflow-wrap:anywhere; }
  /* A step's name is cut to its column (whole in its title): a long one must not run over its status. */
  .step .name { overflow:hidden; text-overflow:ellipsis; white-space:nowrap; min-width:0; }
  .run-error { color:var(--fail); white-space:pre-wrap; overflow-wrap:anywhere; margin:0 0 12px; }
  #more-runs { margin-top:10px; }
  .bar { height:6px; background:var(--accent); border-radius:3px; min-width:2px; }
  .totals { display:flex; gap:24px; margin-bottom:12px; color:var(--dim); }
  .totals b { color:var(--text); }
  #error { color:var(--fail); margin:8px 0; min-height:1em; }
  #login { max-width:420px; margin:80px auto; }
  .hidden { display:none !important; }
  #run-actions { margin-top:12px; }
  pre.outputs { white-space:pre-wrap; background:var(--bg); padding:10px; border-radius:6px; }
</style>
</head>
<body>
<header>
  <h1><a href="#/">Elexirion</a></h1>
  <span class="chip" id="health">…</span>
  <div id="breakers"></div>
  <button class="secondary" id="logout" type="button">Forget token</button>
</header>
<main>
  <section id="login" class="hidden">
    <h2>Token</h2>
    <p>This server needs the value of <code>ELEXIRION_TOKEN</code>. It stays in this tab only (sessionStorage).</p>
    <form id="login-form"><input id="token-input" type="password" placeholder="ELEXIRION_TOKEN" autocomplete="off" size="32">
      <button id="token-save" type="submit">Continue</button></form>
  </section>
  <div id="error" role="alert"></div>
  <div id="list-view" class="hidden">
    <section>
      <h2>Start a run</h2>
      <form id="start-form">
        <select id="pipeline-select" aria-label="pipeline"></select>
        <label><input type="checkbox" id="mock" checked> mock providers</label>
        <input id="inputs" placeholder='inputs as JSON, e.g. {"name":"Ada"}' size="36">
        <button id="start-run" type="submit">Start run</button>
      </form>
    </section>
    <section>
      <h2>Runs</h2>
      <table id="runs"><thead><tr><th>Run</th><th>Pipeline</th><th>Status</th><th>Started</th>
        <th class="num">Duration</th><th class="num">Tokens</th><th class="num">Cost</th></tr></thead><tbody></tbody></table>
      <button class="secondary hidden" id="more-runs" type="button">Show older runs</button>
    </section>
  </div>
  <div id="run-view" class="hidden">
    <section>
      <h2>Run <span id="run-id"></span> · <span id="run-pipeline"></span> · <span id="run-status" class="status"></span></h2>
      <div class="totals"><span>duration <b id="run-duration">–</b></span><span>tokens <b id="run-tokens">0</b></span>
        <span>cost <b id="run-cost">$0</b></span><span>events <b id="run-events">0</b></span></div>
      <div class="run-error hidden" id="run-error" role="status"></div>
      <div class="timeline" id="timeline"></div>
      <form class="hidden" id="run-actions">
        <button class="secondary" id="cancel-run" type="button">Cancel</button>
        <button class="secondary" id="resume-run" type="button">Resume</button>
      </form>
    </section>
    <section><h2>Outputs</h2><pre class="outputs" id="run-outputs">–</pre></section>
  </div>
</main>
<script>
(function () {
  'use strict';
  var KEY = 'elexirion-token';
  // A step's streamed output is shown as its last OUTPUT_CHARS characters: a step that streams a
  // long answer must not grow the page (nor re-copy all of it on every chunk) without bound.
  var OUTPUT_CHARS = 4000;
  var $ = function (id) { return document.getElementById(id); };
  var token = sessionStorage.getItem(KEY);
  // The server was started without ELEXIRION_TOKEN (loopback only): no token to ask for.
  var open = false;
  var timers = [];
  var streamAbort = null;
  // The run shown; callbacks of an earlier one (a response, a reconnect) find it replaced and stop.
  var view = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function showError(message) { $('error').textContent = message || ''; }
  // A refused token has already been reported (and the token forgotten) by api().
  function fail(e) { if (e.message !== 'unauthorized') showError(e.message); }
  function fmtMs(ms) { if (ms === undefined || ms === null) return '–'; return ms < 1000 ? Math.round(ms) + ' ms' : (ms / 1000).toFixed(1) + ' s'; }
  function fmtUsd(v) { return v === null || v === undefined ? 'unknown' : '$' + Number(v).toFixed(v < 0.01 ? 6 : 4); }
  // A total with calls of unknown price (a model in no price table) is no amount: '$?' when nothing
  // of it is known, else the known part '+ ?' — as the CLI prints it, never a plain '$0.000000'.
  function fmtTotal(costUsd, unpricedCalls) {
    if (!unpricedCalls) return fmtUsd(costUsd);
    return costUsd ? fmtUsd(costUsd) + ' + ?' : '$?';
  }
  function fmtTime(iso) { return iso ? new Date(iso).toLocaleTimeString() : '–'; }

  function api(path, options) {
    options = options || {};
    var headers = {};
    if (token) headers.authorization = 'Bearer ' + token;
    if (options.body) headers['content-type'] = 'application/json';
    if (options.lastEventId) headers['last-event-id'] = String(options.lastEventId);
    return fetch(path, { method: options.method || 'GET', headers: headers, body: options.body, signal: options.signal })
      .then(function (res) {
        if (res.status === 401) { logout(open ? 'This server now needs a token.' : 'The token was refused.'); throw new Error('unauthorized'); }
        return res;
      });
  }
  function apiJson(path, options) {
    return api(path, options).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) throw new Error(body.error + (body.hint ? ' — ' + body.hint : ''));
        return body;
      });
    });
  }

  function logout(message) {
    sessionStorage.removeItem(KEY);
    token = null;
    open = false;
    route();
    showError(message || '');
  }

  function refreshHealth() {
    fetch('/health').then(function (r) { return r.json(); }).then(function (h) {
      var chip = $('health');
      chip.textContent = h.status;
      chip.className = 'chip ' + (h.status === 'healthy' ? 'closed' : h.status === 'degraded' ? 'half_open' : 'open');
      var box = $('breakers');
      box.replaceChildren();
      h.checks.providers.providers.forEach(function (p) {
        if (p.circuit === 'unused') return;
        var c = el('span', 'chip ' + p.circuit, p.name + ': ' + p.circuit.replace('_', '-') + ' · ' + p.inFlight + ' in flight');
        c.setAttribute('data-provider', p.name);
        box.appendChild(c);
      });
    }).catch(function () {
      // Not the colour, nor the breakers, of the last answer: the server is not answering now.
      $('health').textContent = 'unreachable';
      $('health').className = 'chip open';
      $('breakers').replaceChildren();
    });
  }

  function clearTimers() {
    timers.forEach(clearTimeout);
    timers = [];
    if (streamAbort) { streamAbort.abort(); streamAbort = null; }
    view = null;
  }

  function route() {
    clearTimers();
    showError('');
    var loggedIn = Boolean(token) || open;
    $('login').classList.toggle('hidden', loggedIn);
    $('logout').classList.toggle('hidden', !token);
    var m = /^#\/runs\/([0-9A-Za-z]+)$/.exec(location.hash);
    $('list-view').classList.toggle('hidden', !loggedIn || Boolean(m));
    $('run-view').classList.toggle('hidden', !loggedIn || !m);
    if (!loggedIn) { $('token-input').focus(); return; }
    if (m) showRun(m[1]); else showList();
  }

  // ---- runs list ----------------------------------------------------------------------------
  // The list shows the newest runsLimit runs, refreshed every 2 s; "Show older runs" raises it by a
  // page. Past RUNS_MAX (what one answer of GET /runs holds), older pages are fetched once, on the
  // click, from the answer's "next" cursor (the place right after its last run, so that runs started
  // meanwhile shift nothing), and kept: a refresh asks for the newest RUNS_MAX only, never for every
  // page a tab scrolled back to (five thousand runs would be five requests every two seconds).
  var RUNS_PAGE = 50;
  var RUNS_MAX = 1000;
  var runsLimit = RUNS_PAGE;
  // The runs past the newest RUNS_MAX, fetched on clicks, and where the next older page starts.
  var olderRuns = [];
  var olderCursor = null;
  var newestNext = null;
  // Each refresh is numbered: an answer older than the last one shown is dropped, and a refresh
  // does not start while one is in flight (a long list can take longer than the interval).
  var runsAsked = 0;
  var runsShown = 0;
  var runsInFlight = false;
  // The message a failed refresh showed: the next refresh that succeeds takes it away again (the
  // server is back), but never another message (a start refused, say).
  var refreshError = null;

  function showList() {
    loadPipelines();
    loadRuns(true);
    timers.push(setInterval(loadRuns, 2000));
  }

  function loadPipelines() {
    apiJson('/pipelines').then(function (body) {
      var select = $('pipeline-select');
      var previous = select.value;
      select.replaceChildren();
      body.files.forEach(function (f) { var o = el('option', null, f); o.value = f; select.appendChild(o); });
      if (previous) select.value = previous;
    }).catch(fail);
  }

  // One page of runs from cursor (null: the newest): { runs, next } (next: null when no older).
  function fetchRuns(limit, cursor) {
    var query = '/runs?limit=' + limit + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
    // Bounded: a refresh that never answers (a half-open connection) must not stop the ones after it.
    return apiJson(query, { signal: AbortSignal.timeout(15000) }).then(function (body) {
      return { runs: body.runs, next: body.next || null };
    });
  }

  function loadRuns(now) {
    if (runsInFlight && now !== true) return;
    var asked = ++runsAsked;
    runsInFlight = true;
    fetchRuns(Math.min(runsLimit, RUNS_MAX), null).then(function (page) {
      if (asked === runsAsked) runsInFlight = false;
      if (asked < runsShown) return;
      runsShown = asked;
      newestNext = page.next;
      // The older pages kept after the newest (a run in both, pushed down by new ones, shown once).
      var newest = {};
      page.runs.forEach(function (r) { newest[r.run_id] = true; });
      var body = {
        runs: page.runs.concat(olderRuns.filter(function (r) { return !newest[r.run_id]; })),
        more: olderRuns.length > 0 ? olderCursor !== null : runsLimit >= RUNS_MAX ? page.next !== null : page.runs.length >= runsLimit && page.next !== null,
      };
      if (refreshError !== null) {
        if ($('error').textContent === refreshError) showError('');
        refreshError = null;
        // What failed with the runs while the server was away: the pipelines to start.
        if (!$('pipeline-select').options.length) loadPipelines();
      }
      $('more-runs').classList.toggle('hidden', !body.more);
      var tbody = $('runs').querySelector('tbody');
      tbody.replaceChildren();
      body.runs.forEach(function (r) {
        var tr = el('tr');
        tr.setAttribute('data-run', r.run_id);
        var link = el('a', 'run-link', r.run_id.slice(-8));
        link.href = '#/runs/' + r.run_id;
        var td = el('td'); td.appendChild(link); tr.appendChild(td);
        tr.appendChild(el('td', null, r.pipeline));
        tr.appendChild(el('td', 'status ' + r.status, r.status));
        tr.appendChild(el('td', null, fmtTime(r.started_at)));
        tr.appendChild(el('td', 'num', fmtMs(r.duration_ms)));
        tr.appendChild(el('td', 'num', r.totals.input_tokens + r.totals.output_tokens));
        var cost = el('td', 'num', fmtTotal(r.totals.cost_usd, r.totals.unpriced_calls));
        if (r.totals.unpriced_calls) cost.title = r.totals.unpriced_calls + ' call(s) of unknown price';
        tr.appendChild(cost);
        tbody.appendChild(tr);
      });
    }).catch(function (e) {
      if (asked === runsAsked) runsInFlight = false;
      fail(e);
      if (e.message !== 'unauthorized') refreshError = e.message;
    });
  }

  $('more-runs').addEventListener('click', function () {
    if (runsLimit < RUNS_MAX) {
      runsLimit = Math.min(runsLimit + RUNS_PAGE, RUNS_MAX);
      loadRuns(true);
      return;
    }
    // Past the newest RUNS_MAX: the next older page, fetched once and kept.
    var from = olderRuns.length > 0 ? olderCursor : newestNext;
    if (!from) return;
    fetchRuns(RUNS_PAGE, from).then(function (page) {
      olderRuns = olderRuns.concat(page.runs);
      olderCursor = page.next;
      loadRuns(true);
    }).catch(fail);
  });

  $('start-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var body = { file: $('pipeline-select').value, mock: $('mock').checked, stream: true };
    var raw = $('inputs').value.trim();
    if (raw) {
      try { body.inputs = JSON.parse(raw); } catch (e) { showError('inputs: not valid JSON'); return; }
    }
    apiJson('/runs', { method: 'POST', body: JSON.stringify(body) })
      .then(function (r) { location.hash = '#/runs/' + r.run_id; })
      .catch(fail);
  });

  // ---- one run ------------------------------------------------------------------------------
  // Steps are looked up by name in a Map, never in a plain object: a step may be named
  // "constructor", "__proto__" or "toString", which an object would find on its prototype.
  function stepRow(name, type) {
    var known = view.steps.get(name);
    if (known) return known;
    var row = el('div', 'step');
    row.setAttribute('data-step', name);
    row.setAttribute('data-status', 'running');
    var parts = { dot: el('span', 'dot'), name: el('span', 'name', name), status: el('span', 'status running', 'running'),
      output: el('div', 'output'), tokens: el('span', 'num', '–'), cost: el('span', 'num', '–') };
    // The whole name, which its column may cut.
    parts.name.title = type ? name + ' (' + type + ')' : name;
    [parts.dot, parts.name, parts.status, parts.output, parts.tokens, parts.cost].forEach(function (p) { row.appendChild(p); });
    $('timeline').appendChild(row);
    var s = { row: row, parts: parts, text: '', pending: false, tokens: 0, cost: 0, unpriced: false };
    view.steps.set(name, s);
    return s;
  }

  function setStepStatus(s, status, label) {
    s.row.setAttribute('data-status', status);
    s.parts.status.className = 'status ' + status;
    s.parts.status.textContent = label;
  }

  // The output shown in a step's row, at most OUTPUT_CHARS characters (the start of a final output).
  function setOutput(s, text) {
    s.text = text;
    s.parts.output.textContent = text.length > OUTPUT_CHARS ? text.slice(0, OUTPUT_CHARS) + '…' : text;
    s.parts.output.scrollTop = 0;
  }

  // Streamed text is kept to its tail and written to the row once per frame, not once per chunk.
  var unflushed = [];
  function appendOutput(s, text) {
    s.text += text;
    if (s.text.length > 2 * OUTPUT_CHARS) s.text = s.text.slice(-OUTPUT_CHARS);
    if (s.pending) return;
    s.pending = true;
    if (unflushed.push(s) === 1) requestAnimationFrame(flushOutputs);
  }
  function flushOutputs() {
    var batch = unflushed;
    unflushed = [];
    batch.forEach(function (s) {
      if (!s.pending) return;
      s.pending = false;
      var out = s.parts.output;
      out.textContent = s.text.length > OUTPUT_CHARS ? '…' + s.text.slice(-OUTPUT_CHARS) : s.text;
      out.scrollTop = out.scrollHeight;
    });
  }

  // A step (re)starts: on resume, a step that failed or was cancelled runs again from scratch.
  function startStep(name, type) {
    var s = stepRow(name, type);
    s.pending = false;
    setStepStatus(s, 'running', 'running');
    setOutput(s, '');
    s.parts.tokens.textContent = '–';
    s.parts.cost.textContent = '–';
    s.tokens = 0;
    s.cost = 0;
    s.unpriced = false;
    showTotals();
  }

  function finishStep(data) {
    var s = stepRow(data.step, data.type);
    if (s.pending) flushOutputs();
    setStepStatus(s, data.status, data.status + ' · ' + fmtMs(data.durationMs));
    s.tokens = data.usage.inputTokens + data.usage.outputTokens;
    s.cost = data.costUsd || 0;
    s.unpriced = data.costUsd === null;
    s.parts.tokens.textContent = s.tokens + ' tok';
    s.parts.cost.textContent = fmtUsd(data.costUsd);
    if (data.error) setOutput(s, data.error);
    return s;
  }

  // The run's totals so far: each step's latest result (a step re-announced or re-run counts once).
  function showTotals() {
    var tokens = 0;
    var cost = 0;
    var unpriced = 0;
    view.steps.forEach(function (s) { tokens += s.tokens; cost += s.cost; if (s.unpriced) unpriced++; });
    $('run-tokens').textContent = tokens;
    $('run-cost').textContent = fmtTotal(cost, unpriced);
  }

  // Why the run did not succeed, when the run says (a failed step's own error is in its row too).
  // Not every failure is a step's: a pipeline's outputs or variables that fail to render fail the run.
  function showRunError(status, error) {
    var box = $('run-error');
    var shown = status !== 'running' && status !== 'succeeded' && error ? String(error) : '';
    box.textContent = shown;
    box.classList.toggle('hidden', !shown);
  }

  function setStatus(status) {
    var s = $('run-status');
    s.textContent = status;
    s.className = 'status ' + status;
    $('run-actions').classList.remove('hidden');
    $('cancel-run').classList.toggle('hidden', status !== 'running');
    $('resume-run').classList.toggle('hidden', status === 'running' || status === 'succeeded');
  }

  // Steps still shown running when their run stopped did not finish: they were stopped with it.
  function stopUnfinishedSteps(runStatus) {
    var label = runStatus === 'cancelled' || runStatus === 'interrupted' ? runStatus : 'stopped';
    view.steps.forEach(function (s) {
      if (s.row.getAttribute('data-status') === 'running') setStepStatus(s, label, label);
    });
  }

  function onEvent(v, ev) {
    // Each journaled event once. The seqs go back at an execution's start only: a run restarted after
    // a crash reuses the seqs its crashed execution sent but never journaled, and the events the page
    // counted at those seqs are void (the restart's replace them; a step it runs again restarts).
    if (ev.seq !== null && ev.seq !== undefined) {
      if (ev.type === 'pipeline.execution.start' && ev.seq <= v.lastSeq) {
        // The stream sends each seq once, in order: those from this one on are the last ones counted.
        v.events -= Math.min(v.lastSeq - ev.seq + 1, v.sinceStart);
      } else if (ev.seq <= v.lastSeq) {
        return false;
      }
      v.lastSeq = ev.seq;
      v.sinceStart = ev.type === 'pipeline.execution.start' ? 1 : v.sinceStart + 1;
    }
    v.events++;
    $('run-events').textContent = v.events;
    var d = ev.data;
    v.stopped = ev.type === 'pipeline.execution.stop';
    switch (ev.type) {
      case 'pipeline.execution.start': setStatus('running'); showRunError('running'); break;
      case 'pipeline.step.start': startStep(d.step, d.type); break;
      case 'pipeline.step.chunk': {
        // reset: an attempt cut off mid-answer is retried (or the step falls back): its text is void.
        var chunked = stepRow(d.step);
        if (d.reset) chunked.text = '';
        appendOutput(chunked, d.text);
        break;
      }
      case 'pipeline.step.stop':
        finishStep(d);
        showTotals();
        break;
      case 'pipeline.execution.stop':
        setStatus(d.status);
        showRunError(d.status, d.error);
        stopUnfinishedSteps(d.status);
        $('run-duration').textContent = fmtMs(d.durationMs);
        refreshHealth();
        break;
    }
    return true;
  }

  function loadRunDetails(v) {
    apiJson('/runs/' + v.id).then(function (run) {
      if (v !== view) return;
      $('run-pipeline').textContent = run.pipeline;
      $('run-outputs').textContent = JSON.stringify(run.outputs, null, 2);
      if (run.duration_ms !== undefined) $('run-duration').textContent = fmtMs(run.duration_ms);
      setStatus(run.status);
      showRunError(run.status, run.error);
      run.steps.forEach(function (s) {
        var row = stepRow(s.key, s.type);
        finishStep({ step: s.key, type: s.type, status: s.status, durationMs: s.duration_ms, error: s.error,
          usage: { inputTokens: s.usage.input_tokens, outputTokens: s.usage.output_tokens }, costUsd: s.cost_usd });
        if (!s.error && s.output !== null && row.text === '') {
          setOutput(row, typeof s.output === 'string' ? s.output : JSON.stringify(s.output));
        }
      });
      if (run.status !== 'running') stopUnfinishedSteps(run.status);
      $('run-tokens').textContent = run.totals.input_tokens + run.totals.output_tokens;
      $('run-cost').textContent = fmtTotal(run.totals.cost_usd, run.totals.unpriced_calls);
    }).catch(fail);
  }

  function showRun(id) {
    // lastId: the last id the stream sent, for Last-Event-ID (a seq alone does not name an event).
    // sinceStart: events with a seq counted since the execution's start.
    view = { id: id, steps: new Map(), lastSeq: 0, lastId: null, sinceStart: 0, events: 0, stopped: false, retries: 0, interrupted: false };
    var v = view;
    $('timeline').replaceChildren();
    $('run-id').textContent = id.slice(-8);
    $('run-pipeline').textContent = '';
    $('run-status').textContent = '';
    $('run-actions').classList.add('hidden');
    $('run-events').textContent = '0';
    $('run-tokens').textContent = '0';
    $('run-cost').textContent = '$0';
    $('run-outputs').textContent = '–';
    $('run-duration').textContent = '–';
    showRunError('running');
    apiJson('/runs/' + id).then(function (run) {
      if (v !== view) return;
      $('run-pipeline').textContent = run.pipeline;
      if (!v.events) setStatus(run.status);
    }).catch(fail);
    streamEvents(v);
  }

  // Server-sent events over fetch: EventSource cannot send the Authorization header. A stream
  // that ends before its run's last event (a dropped connection, a restarted server) is resumed
  // with Last-Event-ID, the last id received (as EventSource does): it names the event's execution,
  // so after a crash restart the server resends from where the page and the journal agree.
  function streamEvents(v) {
    var controller = new AbortController();
    streamAbort = controller;
    api('/runs/' + v.id + '/events', { signal: controller.signal, lastEventId: v.lastId }).then(function (res) {
      if (res.status === 404) return res.json().then(function (b) { showError(b.error); });
      if (!res.ok) throw new Error('the event stream answered ' + res.status);
      if (v.interrupted) { v.interrupted = false; showError(''); }
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      var buffer = '';
      function pump() {
        return reader.read().then(function (chunk) {
          if (v !== view) return;
          // The run's details once its last event is shown — not at a replayed stop of an attempt
          // resumed since: the journal would show the step being re-run as it was before.
          if (chunk.done) return v.stopped ? loadRunDetails(v) : streamEnded(v, null);
          buffer += decoder.decode(chunk.value, { stream: true });
          var blocks = buffer.split('\n\n');
          buffer = blocks.pop();
          blocks.forEach(function (block) {
            var data = [];
            var id = null;
            block.split('\n').forEach(function (l) {
              if (l.indexOf('data:') === 0) data.push(l.slice(5).replace(/^ /, ''));
              else if (l.indexOf('id:') === 0) id = l.slice(3).replace(/^ /, '');
            });
            if (!data.length || v !== view) return;
            if (onEvent(v, JSON.parse(data.join('\n')))) v.retries = 0;
            // An event without an id (a step announced from the journal) keeps the last one, as in
            // EventSource.
            if (id !== null) v.lastId = id;
          });
          return pump();
        });
      }
      return pump();
    }).catch(function (e) {
      if (e.name === 'AbortError' || e.message === 'unauthorized') return;
      streamEnded(v, e);
    });
  }

  function streamEnded(v, error) {
    if (v !== view || v.stopped) return;
    v.retries++;
    // A dropped connection: reconnect, and the server replays what was missed (the run's stop too,
    // if it ended meanwhile).
    if (error) {
      v.interrupted = true;
      showError('The event stream was interrupted (' + error.message + '); reconnecting…');
      return reconnect(v);
    }
    // Ended cleanly before the run's stop: the run is not active in this server (running in another
    // process, or killed). Follow it while the journal says it runs.
    apiJson('/runs/' + v.id).then(function (run) {
      if (v !== view) return;
      if (run.status === 'running') return reconnect(v);
      setStatus(run.status);
      loadRunDetails(v);
    }).catch(function (e) {
      if (v !== view || e.message === 'unauthorized') return;
      reconnect(v);
    });
  }

  function reconnect(v) {
    var delay = Math.min(500 * Math.pow(2, v.retries - 1), 10000);
    timers.push(setTimeout(function () { if (v === view) streamEvents(v); }, delay));
  }

  $('cancel-run').addEventListener('click', function () {
    var id = location.hash.split('/').pop();
    apiJson('/runs/' + id + '/cancel', { method: 'POST' }).catch(fail);
  });
  $('resume-run').addEventListener('click', function () {
    var id = location.hash.split('/').pop();
    apiJson('/runs/' + id + '/resume', { method: 'POST' }).then(function () { route(); })
      .catch(fail);
  });

  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    token = $('token-input').value.trim();
    if (!token) return;
    sessionStorage.setItem(KEY, token);
    $('token-input').value = '';
    route();
  });
  $('logout').addEventListener('click', function () { logout(''); });
  window.addEventListener('hashchange', route);
  refreshHealth();
  setInterval(refreshHealth, 3000);
  if (token) {
    route();
  } else {
    // Ask for a token only when the server wants one: without ELEXIRION_TOKEN it answers anyone on
    // this machine, and there is nothing to type.
    fetch('/runs?limit=1').then(function (res) { open = res.ok; }, function () {}).then(route);
  }
})();
</script>
</body>
</html>
`;
