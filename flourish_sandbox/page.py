# ruff: noqa: E501  (one HTML/JS document; wrapping it would not make it clearer)
"""The sandbox control page at ``/``: plain HTML + fetch calls to the ``/sandbox/`` control API."""

from __future__ import annotations

CONTROL_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flourish sandbox</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 6px}
th{background:#f3f3f3}section{margin-bottom:2em}button{margin:1px}input{margin:2px}
#msg{position:fixed;top:8px;right:8px;background:#ffe;padding:6px;border:1px solid #cc9}
</style></head><body>
<h1>Flourish sandbox</h1><div id="msg"></div>
<section><h2>Company</h2><div id="state"></div>
<button onclick="post('/sandbox/reset',{})">Reset</button>
<button onclick="post('/sandbox/save',{})">Save</button></section>
<section><h2>Outbound orders</h2><table id="orders"></table></section>
<section><h2>Items</h2>
<input id="search" placeholder="search sku or name"><button onclick="loadItems()">Search</button>
<table id="items"></table>
<form onsubmit="event.preventDefault();post('/sandbox/items',{sku:f_sku.value,
item_name:f_name.value,brand:f_brand.value||null,price:parseFloat(f_price.value||'0')})">
New item: <input id="f_sku" placeholder="sku"><input id="f_name" placeholder="name">
<input id="f_brand" placeholder="brand"><input id="f_price" placeholder="price">
<button>Create</button></form></section>
<section><h2>Webhook endpoints</h2><table id="hooks"></table>
<form onsubmit="event.preventDefault();post('/sandbox/webhooks',{url:h_url.value,
signing_key:h_key.value||null,headers:h_headers.value?JSON.parse(h_headers.value):{},
events:h_events.value?h_events.value.split(',').map(s=>s.trim()):null})">
<input id="h_url" placeholder="url" size="40"><input id="h_key" placeholder="signing key">
<input id="h_headers" placeholder='{"X-Secret":"v"}'>
<input id="h_events" placeholder="Outbound Order,Inventory,Item"><button>Add</button></form>
</section>
<section><h2>Faults</h2><pre id="faults"></pre>
<button onclick="post('/sandbox/faults',{kind:'status',status:500,count:1})">Next call 500</button>
<button onclick="post('/sandbox/faults',{kind:'status',status:429,retry_after:2,count:1})">
Next call 429</button>
<button onclick="post('/sandbox/faults',{kind:'timeout',seconds:30,count:1,method:'POST',
path_prefix:'/outbound-orders',after_action:true})">Next order POST: create then time out</button>
<button onclick="post('/sandbox/faults',{latency_ms:500})">Latency 500 ms</button>
<button onclick="post('/sandbox/faults',{webhook:{mode:'duplicate',count:1}})">Dup webhook</button>
<button onclick="post('/sandbox/faults',{webhook:{mode:'reorder',count:1}})">Reorder webhook</button>
<button onclick="post('/sandbox/faults',{webhook:{mode:'drop',count:1}})">Drop webhook</button>
<button onclick="call('DELETE','/sandbox/faults')">Clear faults</button></section>
<section><h2>Webhook deliveries</h2><table id="log"></table></section>
<script>
const esc=s=>String(s??'').replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
async function call(method,url,body){
  const r=await fetch(url,{method,headers:{'Content-Type':'application/json'},
    body:body===undefined?undefined:JSON.stringify(body)});
  const j=await r.json();document.getElementById('msg').textContent=r.status+' '+j.message;
  refresh();return j;}
const post=(u,b)=>call('POST',u,b);
async function get(u){return (await (await fetch(u)).json()).data}
function rows(id,head,list){document.getElementById(id).innerHTML='<tr>'+head.map(h=>'<th>'+h+'</th>')
  .join('')+'</tr>'+list.join('')}
async function loadItems(){
  const q=encodeURIComponent(document.getElementById('search').value);
  const d=await get('/sandbox/items?limit=50&search='+q);
  rows('items',['id','sku','name','brand','price','active','stock (qty/sellable)','set qty'],
    d.items.map(i=>'<tr><td>'+i.id+'</td><td>'+esc(i.sku)+'</td><td>'+esc(i.item_name)+'</td><td>'
    +esc(i.brand)+'</td><td>'+i.price+'</td><td>'+i.active+'</td><td>'+Object.entries(i.stock)
    .map(([f,s])=>f.slice(0,6)+': '+s.qty+'/'+s.sellable_qty).join('<br>')+'</td><td>'
    +Object.keys(i.stock).map(f=>'<button onclick="let v=prompt(\\'qty at '+f+'\\');if(v!==null)'
    +'post(\\'/sandbox/inventory\\',{item_id:\\''+i.id+'\\',facility_id:\\''+f+'\\',qty:parseFloat(v)})">'
    +f.slice(0,6)+'</button>').join('')
    +' <button onclick="call(\\'PATCH\\',\\'/sandbox/items/'+i.id+'\\',{active:'+!i.active+'})">'
    +(i.active?'Deactivate':'Activate')+'</button>'
    +'<button onclick="call(\\'DELETE\\',\\'/sandbox/items/'+i.id+'\\')">Delete</button></td></tr>'));}
async function refresh(){
  const s=await get('/sandbox/state');
  document.getElementById('state').innerHTML=s.facilities.map(f=>esc(f.facility_name)+' <code>'
    +f.id+'</code> '+esc(f.license_number)+(f.sales_rep_required_for_outbound?' (rep required)':''))
    .join('<br>')+'<br>'+JSON.stringify(s.counts);
  const o=await get('/sandbox/orders');
  rows('orders',['id','original','status','payment','total','lines','actions'],o.map(x=>'<tr><td>'
    +x.id+'</td><td>'+esc(x.original_order_id)+'</td><td>'+x.order_status+'</td><td>'+x.payment_status
    +'</td><td>'+x.total_price+'</td><td>'+x.order_lines.map(l=>esc(l.sku)+' x'+l.order_qty
    +' ('+(l.allocated_qty??0)+' alloc)').join('<br>')+'</td><td>'+['allocate','ship','mark-paid',
    'cancel','complete'].map(a=>'<button onclick="post(\\'/sandbox/orders/'+x.id+'/'+a+'\\',{})">'+a
    +'</button>').join('')+'</td></tr>'));
  const h=await get('/sandbox/webhooks');
  rows('hooks',['id','url','key','headers','events',''],h.map(e=>'<tr><td>'+e.id+'</td><td>'
    +esc(e.url)+'</td><td>'+(e.has_signing_key?'set':'-')+'</td><td>'+esc(JSON.stringify(e.headers))
    +'</td><td>'+esc(e.events.join(', '))+'</td><td><button onclick="call(\\'DELETE\\',\\'/sandbox/webhooks/'
    +e.id+'\\')">Remove</button></td></tr>'));
  document.getElementById('faults').textContent=JSON.stringify(await get('/sandbox/faults'),null,1);
  const l=await get('/sandbox/deliveries');
  rows('log',['time','endpoint','resource','id','action','status','attempt','outcome','error'],
    l.slice(-100).reverse().map(d=>'<tr><td>'+d.time+'</td><td>'+esc(d.url)+'</td><td>'
    +d.resource_type+'</td><td>'+esc(d.resource_id)+'</td><td>'+d.action+'</td><td>'
    +(d.status_code??'')+'</td><td>'+d.attempt+'</td><td>'+d.outcome+'</td><td>'+esc(d.error)
    +'</td></tr>'));}
refresh();loadItems();
</script></body></html>
"""
