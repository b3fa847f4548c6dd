import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { Facets } from '../../api/types';
import { parseFilters, type Filters } from '../../lib/filters';
import { FacetList } from './FacetList';

const facets: Facets = {
  category: [{ value: 'c1', count: 12, selected: false }],
  brand: [
    { value: 'Acme', count: 3, selected: false },
    { value: 'Fjord', count: 2, selected: false },
  ],
  price: [
    { key: 'under-20', from: null, to: 2000, count: 2 },
    { key: '20-50', from: 2000, to: 5000, count: 4 },
  ],
  inStock: [{ value: 'true', count: 5, selected: false }],
  attributes: { colour: [{ value: 'red', count: 6, selected: false }] },
};

function setup(query: string) {
  const onChange = vi.fn<(next: Filters) => void>();
  render(
    <FacetList
      facets={facets}
      filters={parseFilters(new URLSearchParams(query))}
      onChange={onChange}
      currency="EUR"
      categoryNames={new Map([['c1', 'Outdoors']])}
    />,
  );
  return onChange;
}

describe('FacetList', () => {
  it('shows each value with its count and category names instead of ids', () => {
    setup('q=x');
    expect(screen.getByLabelText('Acme (3)')).toBeTruthy();
    expect(screen.getByLabelText('Outdoors (12)')).toBeTruthy();
    expect(screen.getByLabelText('Red (6)', { exact: false })).toBeTruthy();
  });

  it('adds a second brand to the first (multi-select)', async () => {
    const onChange = setup('q=x&brand=Acme');
    await userEvent.click(screen.getByLabelText('Fjord (2)'));
    expect(onChange).toHaveBeenCalledWith(expect.objectContaining({ brands: ['Acme', 'Fjord'] }));
  });

  it('applies a typed price range in minor units and refuses an inverted one', async () => {
    const onChange = setup('q=x');
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Min'), '50');
    await user.type(screen.getByLabelText('Max'), '20');
    await user.click(screen.getByRole('button', { name: 'Go' }));
    expect(onChange).not.toHaveBeenCalled();
    expect(screen.getByRole('alert').textContent).toMatch(/above/);
    await user.clear(screen.getByLabelText('Max'));
    await user.type(screen.getByLabelText('Max'), '80.50');
    await user.click(screen.getByRole('button', { name: 'Go' }));
    expect(onChange).toHaveBeenCalledWith(expect.objectContaining({ priceMin: 5000, priceMax: 8050 }));
  });

  it('offers to clear filters only when some are active', () => {
    setup('q=x&in_stock=true');
    expect(screen.getByRole('button', { name: 'Clear all filters' })).toBeTruthy();
  });
});
