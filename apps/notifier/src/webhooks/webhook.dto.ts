import { ArrayMaxSize, IsArray, IsBoolean, IsOptional, IsString, IsUrl, MaxLength, MinLength } from 'class-validator';

export class PutWebhookBody {
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  @MaxLength(2000)
  url: string;

  /** The HMAC-SHA256 key; at least 16 characters. */
  @IsString()
  @MinLength(16)
  @MaxLength(500)
  secret: string;

  /** Event types sent; empty or absent: every type. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  types?: string[];

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}
