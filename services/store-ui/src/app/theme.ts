import { createTheme } from '@mui/material/styles';

/** The shop's one theme: colours chosen for WCAG AA contrast on white (primary 8.4:1, secondary 5.5:1, secondary text 7.4:1 on the page). */
export const theme = createTheme({
  palette: {
    primary: { main: '#1d4e89', contrastText: '#ffffff' },
    secondary: { main: '#b8401f', contrastText: '#ffffff' },
    success: { main: '#1b6e3a' },
    error: { main: '#b3261e' },
    background: { default: '#f6f7fb', paper: '#ffffff' },
    text: { primary: '#1c1f26', secondary: '#4a5161' },
  },
  shape: { borderRadius: 10 },
  typography: {
    fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
    h1: { fontSize: '2rem', fontWeight: 700 },
    h2: { fontSize: '1.5rem', fontWeight: 700 },
    h3: { fontSize: '1.25rem', fontWeight: 600 },
    button: { textTransform: 'none', fontWeight: 600 },
  },
  components: {
    MuiButton: { defaultProps: { disableElevation: true } },
    MuiCard: { defaultProps: { variant: 'outlined' } },
    MuiTextField: { defaultProps: { size: 'small', fullWidth: true } },
  },
});
