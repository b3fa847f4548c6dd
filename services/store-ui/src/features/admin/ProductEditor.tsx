import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Checkbox from '@mui/material/Checkbox';
import IconButton from '@mui/material/IconButton';
import ListItemText from '@mui/material/ListItemText';
import MenuItem from '@mui/material/MenuItem';
import Skeleton from '@mui/material/Skeleton';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { Link as RouterLink, useNavigate, useParams } from 'react-router';
import { catalogApi } from '../../api/catalog';
import { describeError, fieldErrorMap } from '../../api/problem';
import type { Product, ProductStatus } from '../../api/types';
import { DeleteIcon } from '../../components/icons';
import { ErrorState } from '../../components/States';
import { categoryNames, useCategories } from '../catalog/useCategories';
import { draftFromProduct, draftToInput, emptyDraft, emptyVariant, slugify, validateDraft, type ProductDraft, type VariantDraft } from './productForm';

function ImageUpload({ product }: { product: Product }) {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [alt, setAlt] = useState(product.title);
  useEffect(() => {
    if (!file) {
      setPreview(null);
      return;
    }
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);
  const upload = useMutation({
    mutationFn: () => catalogApi.uploadImage(product.id, file as File, alt.trim()),
    onSuccess: async () => {
      setFile(null);
      await queryClient.invalidateQueries({ queryKey: ['admin', 'product', product.id] });
    },
  });
  const images = product.images ?? [];
  return (
    <Card component="section" aria-labelledby="images">
      <CardContent>
        <Typography id="images" variant="h3" sx={{ mb: 2 }}>
          Images
        </Typography>
        <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', mb: 2 }} data-testid="product-images">
          {images.length === 0 ? <Typography color="text.secondary">No images yet.</Typography> : null}
          {images.map((image) => (
            <img key={image.id} src={image.urls.thumbnail} alt={image.alt} width={96} height={96} style={{ objectFit: 'cover', borderRadius: 8 }} />
          ))}
        </Box>
        <Box sx={{ display: 'flex', gap: 2, alignItems: 'flex-start', flexWrap: 'wrap' }}>
          <Button variant="outlined" component="label">
            Choose image…
            <input
              hidden
              type="file"
              accept="image/jpeg,image/png,image/webp"
              data-testid="image-file"
              onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            />
          </Button>
          {preview ? (
            <Box sx={{ display: 'grid', gap: 1 }}>
              <img src={preview} alt="Preview of the chosen image" width={160} height={160} style={{ objectFit: 'contain', borderRadius: 8, background: '#eee' }} data-testid="image-preview" />
              <TextField label="Alt text" value={alt} onChange={(e) => setAlt(e.target.value)} />
              <Button variant="contained" onClick={() => upload.mutate()} disabled={upload.isPending}>
                {upload.isPending ? 'Uploading…' : 'Upload'}
              </Button>
            </Box>
          ) : null}
        </Box>
        {upload.isError ? <ErrorState error={upload.error} title="Upload failed" /> : null}
      </CardContent>
    </Card>
  );
}

function VariantRow({ variant, index, errors, onChange, onRemove, canRemove, isNew }: {
  variant: VariantDraft;
  index: number;
  errors: Record<string, string>;
  onChange: (v: VariantDraft) => void;
  onRemove: () => void;
  canRemove: boolean;
  isNew: boolean;
}) {
  const err = (name: string) => errors[`variants[${index}].${name}`] ?? (name === 'price' ? errors[`variants[${index}].price.amount`] : undefined);
  const field = (name: keyof VariantDraft, label: string, extra: { helper?: string; width?: number } = {}) => (
    <TextField
      label={label}
      value={variant[name]}
      onChange={(e) => onChange({ ...variant, [name]: name === 'currency' ? e.target.value.toUpperCase() : e.target.value })}
      error={!!err(name)}
      helperText={err(name) ?? extra.helper}
      sx={{ width: extra.width, flex: extra.width ? undefined : 1, minWidth: 120 }}
      fullWidth={false}
      slotProps={{ htmlInput: { 'data-testid': `variant-${index}-${name}` } }}
    />
  );
  return (
    <Box component="fieldset" sx={{ border: 1, borderColor: 'divider', borderRadius: 2, p: 2, m: 0, display: 'flex', gap: 1.5, flexWrap: 'wrap', alignItems: 'flex-start' }}>
      <Typography component="legend" variant="body2" sx={{ px: 0.5 }}>
        Variant {index + 1}
      </Typography>
      {field('sku', 'SKU')}
      {field('title', 'Title')}
      {field('price', 'Price', { width: 120 })}
      {field('currency', 'Currency', { width: 100 })}
      {field('attributes', 'Attributes', { helper: 'colour: red; size: M' })}
      {field('stock', 'Stock on hand', { width: 140, helper: isNew ? undefined : 'blank: unchanged' })}
      {field('weightGrams', 'Weight (g)', { width: 120, helper: 'for shipping' })}
      <IconButton aria-label={`Remove variant ${index + 1}`} onClick={onRemove} disabled={!canRemove}>
        <DeleteIcon />
      </IconButton>
    </Box>
  );
}

function Editor({ product }: { product?: Product }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const categories = useCategories();
  const names = categoryNames(categories.data);
  const [draft, setDraft] = useState<ProductDraft>(() => (product ? draftFromProduct(product) : emptyDraft()));
  const [slugTouched, setSlugTouched] = useState(product !== undefined);
  const [submitted, setSubmitted] = useState(false);
  const local = validateDraft(draft);
  const save = useMutation({
    mutationFn: () => (product ? catalogApi.replaceProduct(product.id, draftToInput(draft), product.version) : catalogApi.createProduct(draftToInput(draft))),
    onSuccess: async (saved) => {
      queryClient.setQueryData(['admin', 'product', saved.id], saved);
      await queryClient.invalidateQueries({ queryKey: ['products'] });
      if (!product) void navigate(`/admin/products/${saved.id}?created=1`, { replace: true });
    },
  });
  const errors = { ...fieldErrorMap(save.error), ...(submitted ? local : {}) };
  const set = <K extends keyof ProductDraft>(key: K, value: ProductDraft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (Object.keys(local).length === 0) save.mutate();
  };

  return (
    <Box component="form" onSubmit={submit} noValidate sx={{ display: 'grid', gap: 2 }}>
      <Card>
        <CardContent sx={{ display: 'grid', gap: 2, gridTemplateColumns: { xs: '1fr', md: '1fr 1fr' } }}>
          <TextField
            label="Title"
            required
            value={draft.title}
            onChange={(e) => {
              const title = e.target.value;
              setDraft((d) => ({ ...d, title, slug: slugTouched ? d.slug : slugify(title) }));
            }}
            error={!!errors.title}
            helperText={errors.title}
            name="title"
          />
          <TextField
            label="Slug"
            required
            value={draft.slug}
            onChange={(e) => {
              setSlugTouched(true);
              set('slug', e.target.value);
            }}
            error={!!errors.slug}
            helperText={errors.slug ?? `/p/${draft.slug || '…'}`}
            name="slug"
          />
          <TextField label="Brand" value={draft.brand} onChange={(e) => set('brand', e.target.value)} error={!!errors.brand} helperText={errors.brand} name="brand" />
          <TextField select label="Status" value={draft.status} onChange={(e) => set('status', e.target.value as ProductStatus)} name="status">
            <MenuItem value="active">Active (on sale)</MenuItem>
            <MenuItem value="draft">Draft (hidden)</MenuItem>
            <MenuItem value="archived">Archived</MenuItem>
          </TextField>
          <TextField
            select
            label="Categories"
            value={draft.categoryIds}
            onChange={(e) => {
              const v = e.target.value as unknown;
              set('categoryIds', typeof v === 'string' ? v.split(',') : (v as string[]));
            }}
            slotProps={{ select: { multiple: true, renderValue: (ids) => (ids as string[]).map((id) => names.get(id) ?? id).join(', ') } }}
            error={!!errors.categoryIds}
            helperText={errors.categoryIds}
            sx={{ gridColumn: '1 / -1' }}
            name="categories"
          >
            {(categories.data ?? []).map((c) => (
              <MenuItem key={c.id} value={c.id} sx={{ pl: 2 + c.path.length * 2 }}>
                <Checkbox size="small" checked={draft.categoryIds.includes(c.id)} />
                <ListItemText primary={c.name} />
              </MenuItem>
            ))}
          </TextField>
          <TextField
            label="Description"
            multiline
            minRows={3}
            value={draft.description}
            onChange={(e) => set('description', e.target.value)}
            error={!!errors.description}
            helperText={errors.description}
            sx={{ gridColumn: '1 / -1' }}
            name="description"
          />
        </CardContent>
      </Card>
      <Card>
        <CardContent sx={{ display: 'grid', gap: 2 }}>
          <Typography variant="h3">Variants</Typography>
          {errors.variants ? <Alert severity="error">{errors.variants}</Alert> : null}
          {draft.variants.map((v, i) => (
            <VariantRow
              key={i}
              index={i}
              variant={v}
              errors={errors}
              isNew={!product?.variants.some((pv) => pv.sku === v.sku)}
              canRemove={draft.variants.length > 1}
              onChange={(next) => set('variants', draft.variants.map((x, j) => (j === i ? next : x)))}
              onRemove={() => set('variants', draft.variants.filter((_, j) => j !== i))}
            />
          ))}
          <Box>
            <Button onClick={() => set('variants', [...draft.variants, emptyVariant(draft.variants[0]?.currency ?? 'EUR')])}>Add a variant</Button>
          </Box>
        </CardContent>
      </Card>
      {save.isError ? (
        <Alert severity="error" role="alert">
          {describeError(save.error)}
        </Alert>
      ) : null}
      {save.isSuccess && product ? <Alert severity="success">Saved.</Alert> : null}
      <Box sx={{ display: 'flex', gap: 1 }}>
        <Button type="submit" variant="contained" size="large" disabled={save.isPending} data-testid="save-product">
          {save.isPending ? 'Saving…' : product ? 'Save changes' : 'Create product'}
        </Button>
        <Button component={RouterLink} to="/admin/products">
          Back to products
        </Button>
      </Box>
    </Box>
  );
}

export function ProductEditor() {
  const { id } = useParams();
  const product = useQuery({
    queryKey: ['admin', 'product', id],
    enabled: id !== undefined,
    queryFn: ({ signal }) => catalogApi.product(id ?? '', signal),
  });
  if (id === undefined) {
    return (
      <>
        <Typography variant="h1" sx={{ mb: 2 }}>
          New product
        </Typography>
        <Editor />
      </>
    );
  }
  if (product.isPending) return <Skeleton variant="rounded" height={320} />;
  if (product.isError) return <ErrorState error={product.error} onRetry={() => void product.refetch()} />;
  return (
    <Box sx={{ display: 'grid', gap: 2 }}>
      <Box sx={{ display: 'flex', alignItems: 'baseline', gap: 2, flexWrap: 'wrap' }}>
        <Typography variant="h1" sx={{ flex: 1 }}>
          {product.data.title}
        </Typography>
        {product.data.status === 'active' ? (
          <Button component={RouterLink} to={`/p/${product.data.slug}`}>
            View in shop
          </Button>
        ) : null}
      </Box>
      <ImageUpload product={product.data} />
      <Editor key={product.data.id} product={product.data} />
    </Box>
  );
}
