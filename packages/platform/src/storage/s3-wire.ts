/** Where a bucket is and how requests to it are signed. */
export interface S3Location {
  /** Unset: AWS S3 in `region`. */
  endpoint: string | undefined;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `<endpoint>/<bucket>/key` rather than `<bucket>.<endpoint>/key`. */
  forcePathStyle: boolean;
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => XML_ENTITIES[name]!);
}

/** The text of the first `<name>` element without children (S3's answers are flat enough for this). */
export function readXmlTag(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return match ? unescapeXml(match[1]!) : undefined;
}

/** The inner XML of every `<name>` element (each `<Contents>` of a listing). */
export function readXmlTags(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((match) => match[1]!);
}

/** The bucket's URL, ending in `/`: path style `<endpoint>/<bucket>/` or virtual-host style. */
export function s3BucketUrl(location: S3Location): string {
  const endpoint = new URL(location.endpoint ?? `https://s3.${location.region}.amazonaws.com`);
  const base = endpoint.pathname.replace(/\/+$/, '');
  return location.forcePathStyle
    ? `${endpoint.origin}${base}/${encodeURIComponent(location.bucket)}/`
    : `${endpoint.protocol}//${location.bucket}.${endpoint.host}${base}/`;
}

/** A key as a URL path after the bucket, each segment encoded. */
export function s3ObjectPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
