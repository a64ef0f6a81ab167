import 'reflect-metadata';
import { Controller, Delete, Get, Patch, Post, Put } from '@nestjs/common';
import type { DiscoveryService } from '@nestjs/core';
import { Audited, mutatingRoutes, NotAudited } from './audited.decorator.js';
import { AuditedRoutes, UnauditedRouteError } from './audited-routes.js';

@Controller('api/v1/things')
class Declared {
  @Get() list() {}
  @Post() @Audited('thing.create') create() {}
  @Put(':id') @Audited('thing.change') change() {}
  @Patch(':id') @Audited('thing.patch') patch() {}
  @Delete(':id') @Audited('thing.delete') remove() {}
  @Post('preview') @NotAudited('stores nothing') preview() {}
}

@Controller('api/v1/other')
class Forgotten {
  @Post('go') go() {}
  @Get() read() {}
}

const discovery = (...types: unknown[]) => ({ getControllers: () => types.map((metatype) => ({ metatype, instance: {} })) }) as unknown as DiscoveryService;

describe('audited routes', () => {
  it('lists every POST, PUT, PATCH and DELETE route with its declared action', () => {
    expect(mutatingRoutes([Declared]).map((r) => [r.method, r.path, r.action, r.notAudited])).toEqual([
      ['POST', '/api/v1/things', 'thing.create', null],
      ['PUT', '/api/v1/things/:id', 'thing.change', null],
      ['PATCH', '/api/v1/things/:id', 'thing.patch', null],
      ['DELETE', '/api/v1/things/:id', 'thing.delete', null],
      ['POST', '/api/v1/things/preview', null, 'stores nothing'],
    ]);
  });

  it('lets a service start when every mutating route declares its audit', () => {
    expect(() => new AuditedRoutes(discovery(Declared)).onModuleInit()).not.toThrow();
  });

  it('refuses to start a service with a mutating route that declares no audit, naming it', () => {
    expect(() => new AuditedRoutes(discovery(Declared, Forgotten)).onModuleInit()).toThrow(UnauditedRouteError);
    expect(() => new AuditedRoutes(discovery(Forgotten)).onModuleInit()).toThrow('POST /api/v1/other/go (Forgotten.go)');
  });
});
