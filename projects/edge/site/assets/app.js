// Lists the catalog from the API behind the same CloudFront host (/api/*, micro-cached at the edge).
// No inline script anywhere: the Content-Security-Policy allows only 'self' scripts.
const list = document.getElementById('products');
const status = document.getElementById('status');

function price(cents, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}

async function load() {
  try {
    const response = await fetch('/api/products?limit=20', { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const { items } = await response.json();
    list.replaceChildren(...items.map((p) => {
      const li = document.createElement('li');
      const name = document.createElement('strong');
      name.textContent = p.name;
      const cost = document.createElement('span');
      cost.className = 'price';
      cost.textContent = price(p.priceCents, p.currency);
      li.append(name, cost);
      return li;
    }));
    status.textContent = items.length ? '' : 'No products yet.';
  } catch (err) {
    status.textContent = `The catalog is unavailable right now (${err.message}).`;
  }
}

load();
