import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import MenuItem from '@mui/material/MenuItem';
import Skeleton from '@mui/material/Skeleton';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { catalogApi } from '../../api/catalog';
import { describeError, fieldErrorMap } from '../../api/problem';
import type { Category, CategoryInput } from '../../api/types';
import { ErrorState } from '../../components/States';
import { useCategories } from '../catalog/useCategories';
import { slugify } from './productForm';

function CategoryForm({ initial, categories, onSubmit, busy, error, submitLabel, onCancel }: {
  initial: CategoryInput;
  categories: Category[];
  onSubmit: (input: CategoryInput) => void;
  busy: boolean;
  error: unknown;
  submitLabel: string;
  onCancel?: () => void;
}) {
  const [input, setInput] = useState<CategoryInput>(initial);
  const [slugTouched, setSlugTouched] = useState(initial.slug !== '');
  const fields = fieldErrorMap(error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit({ ...input, name: input.name.trim(), parentId: input.parentId || null });
  };
  return (
    <Box component="form" onSubmit={submit} sx={{ display: 'grid', gap: 1.5, gridTemplateColumns: { xs: '1fr', sm: '1fr 1fr' } }}>
      <TextField
        label="Name"
        required
        value={input.name}
        onChange={(e) => setInput((c) => ({ ...c, name: e.target.value, slug: slugTouched ? c.slug : slugify(e.target.value) }))}
        error={!!fields.name}
        helperText={fields.name}
      />
      <TextField
        label="Slug"
        required
        value={input.slug}
        onChange={(e) => {
          setSlugTouched(true);
          setInput((c) => ({ ...c, slug: e.target.value }));
        }}
        error={!!fields.slug}
        helperText={fields.slug}
      />
      <TextField select label="Parent" value={input.parentId ?? ''} onChange={(e) => setInput((c) => ({ ...c, parentId: e.target.value || null }))} error={!!fields.parentId} helperText={fields.parentId}>
        <MenuItem value="">(top level)</MenuItem>
        {categories.map((c) => (
          <MenuItem key={c.id} value={c.id} sx={{ pl: 2 + c.path.length * 2 }}>
            {c.name}
          </MenuItem>
        ))}
      </TextField>
      <TextField label="Position" type="number" value={input.position ?? 0} onChange={(e) => setInput((c) => ({ ...c, position: Number(e.target.value) }))} error={!!fields.position} helperText={fields.position} />
      <TextField label="Description" value={input.description ?? ''} onChange={(e) => setInput((c) => ({ ...c, description: e.target.value }))} sx={{ gridColumn: '1 / -1' }} />
      {error && Object.keys(fields).length === 0 ? (
        <Alert severity="error" sx={{ gridColumn: '1 / -1' }}>
          {describeError(error)}
        </Alert>
      ) : null}
      <Box sx={{ gridColumn: '1 / -1', display: 'flex', gap: 1 }}>
        <Button type="submit" variant="contained" disabled={busy}>
          {submitLabel}
        </Button>
        {onCancel ? <Button onClick={onCancel}>Cancel</Button> : null}
      </Box>
    </Box>
  );
}

function CategoryRow({ category, categories }: { category: Category; categories: Category[] }) {
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['categories'] });
  const replace = useMutation({
    mutationFn: (input: CategoryInput) => catalogApi.replaceCategory(category.id, input, category.version),
    onSuccess: async () => {
      setEditing(false);
      await refresh();
    },
  });
  const remove = useMutation({ mutationFn: () => catalogApi.deleteCategory(category.id, category.version), onSuccess: refresh });
  return (
    <Box component="li" sx={{ py: 1, pl: category.path.length * 3, borderBottom: 1, borderColor: 'divider' }}>
      {editing ? (
        <CategoryForm
          initial={{ name: category.name, slug: category.slug, description: category.description, parentId: category.parentId ?? null, position: category.position }}
          categories={categories.filter((c) => c.id !== category.id)}
          onSubmit={(i) => replace.mutate(i)}
          busy={replace.isPending}
          error={replace.error}
          submitLabel="Save"
          onCancel={() => setEditing(false)}
        />
      ) : (
        <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, flexWrap: 'wrap' }}>
          <Typography sx={{ fontWeight: category.path.length === 0 ? 700 : 400, flex: 1 }}>
            {category.name}{' '}
            <Typography component="span" variant="body2" color="text.secondary">
              /c/{category.slug}
            </Typography>
          </Typography>
          <Button size="small" onClick={() => setEditing(true)}>
            Edit
          </Button>
          <Button size="small" color="error" onClick={() => remove.mutate()} disabled={remove.isPending}>
            Delete
          </Button>
        </Box>
      )}
      {remove.isError ? <ErrorState error={remove.error} title="Not deleted" /> : null}
    </Box>
  );
}

export function CategoriesAdmin() {
  const queryClient = useQueryClient();
  const categories = useCategories();
  const [formKey, setFormKey] = useState(0);
  const create = useMutation({
    mutationFn: (input: CategoryInput) => catalogApi.createCategory(input),
    onSuccess: async () => {
      setFormKey((k) => k + 1);
      await queryClient.invalidateQueries({ queryKey: ['categories'] });
    },
  });
  if (categories.isPending) return <Skeleton variant="rounded" height={300} />;
  if (categories.isError) return <ErrorState error={categories.error} onRetry={() => void categories.refetch()} />;
  return (
    <Box sx={{ display: 'grid', gap: 3 }}>
      <Typography variant="h1">Categories</Typography>
      <Card>
        <CardContent>
          <Typography variant="h3" sx={{ mb: 2 }}>
            New category
          </Typography>
          <CategoryForm
            key={formKey}
            initial={{ name: '', slug: '', description: '', parentId: null, position: 0 }}
            categories={categories.data}
            onSubmit={(i) => create.mutate(i)}
            busy={create.isPending}
            error={create.error}
            submitLabel="Create category"
          />
        </CardContent>
      </Card>
      <Card>
        <CardContent>
          <Box component="ul" sx={{ listStyle: 'none', p: 0, m: 0 }}>
            {categories.data.map((c) => (
              <CategoryRow key={`${c.id}:${c.version}`} category={c} categories={categories.data} />
            ))}
          </Box>
        </CardContent>
      </Card>
    </Box>
  );
}
