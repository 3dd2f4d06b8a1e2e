// Charts: each .dpb-chart names its spec, which the script charts/<name>.js beside it filed
// in window.DPB_SPECS (it ran before this one: scripts run in document order).
document.querySelectorAll('.dpb-chart').forEach(function (el) {
  var spec = (window.DPB_SPECS || {})[el.dataset.spec];
  if (!spec) {
    el.textContent = 'chart missing: charts/' + el.dataset.spec + '.js was not loaded';
    return;
  }
  vegaEmbed(el, spec, {actions: false, renderer: 'svg'}).catch(function (e) {
    el.textContent = 'chart failed: ' + e;
  });
});

// Data tables (Runs, Statistics): rows come from a data/*.js script (file:// cannot fetch
// JSON); the filter matches the row's fields, a header click sorts, rows show a page at a time.
function dpbTable(box, data, render) {
  var PAGE = 200;
  var table = document.createElement('table');
  table.className = 'dpb-data';
  var head = table.createTHead().insertRow();
  var body = table.createTBody();
  var shown = data.rows, limit = PAGE, sortBy = -1, ascending = true;
  var columns = render.columns;
  columns.forEach(function (c, i) {
    var th = document.createElement('th');
    th.textContent = c.title;
    th.title = 'sort by ' + c.title;
    th.addEventListener('click', function () {
      ascending = sortBy === i ? !ascending : true;
      sortBy = i;
      var key = c.key;
      shown = shown.slice().sort(function (a, b) {
        var x = a[key], y = b[key];
        var order = (typeof x === 'number' && typeof y === 'number') ? x - y :
          String(x).localeCompare(String(y), undefined, {numeric: true});
        return ascending ? order : -order;
      });
      draw();
    });
    head.appendChild(th);
  });
  var filter = document.createElement('input');
  filter.type = 'search';
  filter.className = 'dpb-filter';
  filter.placeholder = render.placeholder;
  filter.setAttribute('aria-label', render.placeholder);
  var count = document.createElement('p');
  var more = document.createElement('button');
  more.className = 'md-button dpb-more';
  more.textContent = 'show more';
  more.addEventListener('click', function () { limit += PAGE * 5; draw(); });
  filter.addEventListener('input', function () {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    shown = data.rows.filter(function (row) {
      var text = render.searchable(row).join(' ').toLowerCase();
      return words.every(function (w) { return text.indexOf(w) >= 0; });
    });
    limit = PAGE;
    draw();
  });
  function draw() {
    body.textContent = '';
    shown.slice(0, limit).forEach(function (row) {
      var tr = body.insertRow();
      columns.forEach(function (c) { c.cell(tr.insertCell(), row); });
    });
    count.textContent = shown.length + ' of ' + data.rows.length + ' rows' +
      (shown.length > limit ? ' (first ' + limit + ' shown)' : '');
    more.hidden = shown.length <= limit;
  }
  box.appendChild(filter);
  box.appendChild(count);
  var scroll = document.createElement('div');
  scroll.className = 'dpb-scroll';
  scroll.appendChild(table);
  box.appendChild(scroll);
  box.appendChild(more);
  draw();
}

function dpbText(td, text) { td.textContent = text === null ? '' : String(text); }

// A campaign's rows are a script of their own (data/<kind>/<campaign>.js), loaded when shown:
// a long history's 60,000 runs are not all loaded to look at one campaign.
function dpbLoad(kind, names, done) {
  var parts = window.DPB_PARTS = window.DPB_PARTS || {};
  var data = {columns: [], rows: []}, missing = [], i = 0;
  (function next() {
    if (i >= names.length) { data.missing = missing; done(data); return; }
    var name = names[i++], key = kind + ':' + name;
    var use = function () {
      var part = parts[key];
      if (part) {
        data.columns = part.columns;
        for (var j = 0; j < part.rows.length; j++) { data.rows.push(part.rows[j]); }
      } else {
        missing.push(name);
      }
      next();
    };
    if (parts[key]) { use(); return; }
    var script = document.createElement('script');
    script.src = 'data/' + kind + '/' + encodeURIComponent(name) + '.js';
    script.onload = use;
    script.onerror = use;
    document.head.appendChild(script);
  })();
}

// One campaign, or a choice among several (the newest first; all of them at once for a short
// history), each choice drawing the table anew.
function dpbCampaignTable(box, kind, render) {
  var names = JSON.parse(box.dataset.campaigns || '[]');
  var holder = document.createElement('div');
  function show(chosen) {
    holder.textContent = 'loading…';
    dpbLoad(kind, chosen, function (data) {
      holder.textContent = '';
      if (data.missing.length) {
        var warn = document.createElement('p');
        warn.className = 'dpb-missing';
        warn.textContent = 'not found in this site: data/' + kind + '/ of ' +
          data.missing.join(', ');
        holder.appendChild(warn);
      }
      dpbTable(holder, data, render(data, chosen.length > 1));
    });
  }
  if (names.length > 1) {
    var label = document.createElement('label');
    label.className = 'dpb-campaign';
    label.textContent = 'campaign ';
    var select = document.createElement('select');
    names.forEach(function (name) { select.add(new Option(name, name)); });
    select.add(new Option('all ' + names.length + ' campaigns', ''));
    select.value = names.length <= 3 ? '' : names[0];
    select.addEventListener('change', function () {
      show(select.value ? [select.value] : names);
    });
    label.appendChild(select);
    box.appendChild(label);
  }
  box.appendChild(holder);
  show(names.length <= 3 ? names : [names[0]]);
}

var runsBox = document.getElementById('dpb-runs');
if (runsBox) {
  dpbCampaignTable(runsBox, 'runs', function (data, several) {
    var rc = data.columns;
    var at = function (name) { return rc.indexOf(name); };
    var fields = ['campaign', 'configuration', 'direction', 'tool', 'test', 'message_size',
                  'socket_buffer', 'mtu', 'status', 'run'];
    var text = function (name) {
      return {title: name, key: at(name), cell: function (td, row) { dpbText(td, row[at(name)]); }};
    };
    var cols = ['campaign', 'run', 'status', 'result'].map(text);
    if (!several) {
      cols.shift();  // one campaign: no column repeating its name on every row
    }
    cols.push({title: 'raw files', key: at('files'), cell: function (td, row) {
      row[at('files')].forEach(function (f) {
        var a = document.createElement('a');
        a.href = f[1];
        a.textContent = f[0];
        td.appendChild(a);
        td.appendChild(document.createTextNode(' '));
      });
    }});
    cols.push(text('reason'));
    return {
      columns: cols, placeholder: 'filter runs: e.g. container stream mtu 9000 failed',
      searchable: function (row) {
        return fields.map(function (f) { return row[at(f)]; }).concat(
          [at('mtu') >= 0 ? 'mtu' + row[at('mtu')] : '']);
      }};
  });
}

var cellsBox = document.getElementById('dpb-cells');
if (cellsBox) {
  var fmt = function (v) {
    if (typeof v !== 'number') { return v === null ? '–' : v; }
    if (Number.isInteger(v)) { return v; }
    return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);
  };
  dpbCampaignTable(cellsBox, 'cells', function (data, several) {
    var cc = data.columns;
    return {
      columns: cc.map(function (name, i) {
        return {title: name, key: i, cell: function (td, row) { dpbText(td, fmt(row[i])); }};
      }).filter(function (c, i) { return several || cc[i] !== 'campaign'; }),
      placeholder: 'filter cells: e.g. gbps container 20000',
      searchable: function (row) { return row.map(String); }};
  });
}

// A figure page of one node pair (SLUG.pair-TOKEN.html, picked under its title): links to the
// other figure pages, the site's navigation included, lead to the same pair's, so a reader who
// picked a pair stays on it until picking another.
(function () {
  var mark = document.querySelector('.dpb-pair-pages');
  if (!mark || !mark.dataset.token) {
    return;
  }
  var pages = (mark.dataset.pages || '').split(' ');
  var suffix = '.pair-' + mark.dataset.token + '.html';
  var here = (/([a-z0-9-]+)\.pair-[^\/]*$/.exec(location.pathname) || [])[1];
  document.querySelectorAll('a[href]').forEach(function (a) {
    var m = /^(?:\.\/)?([a-z0-9-]+)\.html(#.*)?$/.exec(a.getAttribute('href'));
    if (m && pages.indexOf(m[1]) >= 0) {
      a.setAttribute('href', m[1] + suffix + (m[2] || ''));
      if (m[1] === here && !m[2] && a.classList.contains('md-nav__link')) {
        a.classList.add('md-nav__link--active');  // the nav shows which page this is
      }
    }
  });
})();
