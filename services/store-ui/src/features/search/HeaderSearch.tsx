//! The header's search: a plain field paints at once; the suggesting field (MUI Autocomplete, the
//! largest piece of the header) is loaded when the browser is idle or the shopper reaches for it, and
//! takes over with whatever was typed. Enter searches in either.

import InputAdornment from '@mui/material/InputAdornment';
import OutlinedInput from '@mui/material/OutlinedInput';
import { lazy, Suspense, useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { SearchIcon } from '../../components/icons';

const loadSearchBox = () => import('./SearchBox');
const SearchBox = lazy(loadSearchBox);

function PlainSearch({ onWake, text, setText }: { onWake: (focused: boolean) => void; text: string; setText: (t: string) => void }) {
  const navigate = useNavigate();
  return (
    <form
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        if (text.trim()) void navigate(`/search?q=${encodeURIComponent(text.trim())}`);
      }}
    >
      <OutlinedInput
        fullWidth
        size="small"
        type="search"
        placeholder="Search products"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onFocus={() => onWake(true)}
        onPointerEnter={() => onWake(false)}
        inputProps={{ 'aria-label': 'Search products' }}
        startAdornment={
          <InputAdornment position="start">
            <SearchIcon fontSize="small" />
          </InputAdornment>
        }
        sx={{ bgcolor: 'background.paper' }}
      />
    </form>
  );
}

export function HeaderSearch() {
  const [awake, setAwake] = useState(false);
  const [text, setText] = useState('');
  const [focused, setFocused] = useState(false);
  useEffect(() => {
    const wake = () => setAwake(true);
    if ('requestIdleCallback' in window) {
      const id = window.requestIdleCallback(wake, { timeout: 3000 });
      return () => window.cancelIdleCallback(id);
    }
    const timer = setTimeout(wake, 1500);
    return () => clearTimeout(timer);
  }, []);
  const wake = (focus: boolean) => {
    void loadSearchBox();
    if (focus) setFocused(true);
    setAwake(true);
  };
  const plain = <PlainSearch onWake={wake} text={text} setText={setText} />;
  if (!awake) return plain;
  return (
    <Suspense fallback={plain}>
      <SearchBox initialText={text} autoFocus={focused} />
    </Suspense>
  );
}
