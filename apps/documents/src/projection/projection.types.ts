/** A document as the projection holds it. */
export interface ProjectedDocument {
  companyId: string;
  id: string;
  type: string | null;
  title: string | null;
  owner: string | null;
  responsibleRole: string | null;
  expiresAt: Date | null;
  /** The ordering key of the last event applied. */
  version: number;
  updatedAt?: Date;
}

/** Keyset position in a tenant's documents ordered by (expiresAt, id). */
export interface ExpiryCursor {
  expiresAt: Date;
  id: string;
}
