import type { Connection, Submittable } from 'pg';

/** The parts of pg's Connection a COPY uses that its types leave out. */
type CopyConnection = Connection & { sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void };

/**
 * One simple query whose statements include a `COPY … FROM STDIN`, sent with
 * its COPY data in one socket write and answered once. Postgres runs the
 * statements of one simple query as one implicit transaction, so a batch
 * (COPY, marker, planned runs) is atomic and committed in one round trip,
 * where BEGIN, COPY through pg-copy-streams, marker and COMMIT took five
 * (each waiting for a busy worker's event loop). The data goes before the
 * server's CopyInResponse: the server reads it once it reaches the COPY, and
 * ignores it (per the protocol) when a statement before the COPY failed.
 * On the pg client as pg-copy-streams' queries are: `client.query(new CopyBatchQuery(…))`.
 */
export class CopyBatchQuery implements Submittable {
  private error?: Error;

  constructor(
    private readonly text: string,
    private readonly data: Buffer,
    /** pg replaces it when a query_timeout applies, so it is a field as pg's own Query's is. */
    public callback: (error?: Error) => void,
  ) {}

  submit(connection: Connection): void {
    const c = connection as CopyConnection;
    c.stream.cork();
    c.query(this.text);
    c.sendCopyFromChunk(this.data);
    c.endCopyFrom();
    c.stream.uncork();
  }

  handleError(error: Error): void {
    // The server still sends ReadyForQuery after an error, but pg has let go of this query by then.
    this.error ??= error;
    this.callback(error);
  }

  handleReadyForQuery(): void {
    if (!this.error) this.callback();
  }

  handleCopyInResponse(): void {}
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}
